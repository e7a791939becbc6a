#!/usr/bin/env bash
# The whole test suite: formatting, lint, type check, then every test under tests/.
# Installs Deno first when it is missing. Ends with a plain "N passed, N failed" line.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
deno="$root/scripts/deno"
mapfile -t perms < "$root/scripts/permissions.txt"

step() { printf '\n== %s\n' "$1"; }

step "deno $("$deno" --version | head -n 1 | cut -d' ' -f2) — install dependencies"
"$deno" install --quiet --frozen || exit 1
step "format"
"$deno" fmt --check || exit 1
step "lint"
"$deno" lint || exit 1
step "type check"
"$deno" check --quiet main.ts src/ tests/ scripts/ || exit 1
step "tools the tests use"
# promtool (Debian's prometheus package) checks the alert rules in deploy/prometheus; without it
# that one test is skipped and says so.
if ! command -v promtool >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends prometheus) >/dev/null 2>&1; then
    echo "installed promtool"
  else
    echo "promtool could not be installed: the alert-rule check is skipped"
  fi
fi
command -v promtool >/dev/null 2>&1 && echo "promtool: $(promtool --version 2>&1 | head -n 1)"
step "tests"
# Most test files wait on timers, child processes and the emulator rather than the CPU, so four
# run at once even on two cores (the suite takes half the time; DENO_JOBS overrides it).
export DENO_JOBS="${DENO_JOBS:-4}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
"$deno" test --quiet "${perms[@]}" --parallel --trace-leaks tests/ "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
summary="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -n 1)"
passed="$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")"
failed="$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")"
if [ -z "$summary" ]; then
  echo "tests: no summary line from deno test (exit $status)"
  exit $((status == 0 ? 1 : status))
fi
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
