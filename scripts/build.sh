#!/usr/bin/env bash
# Builds the single dlbot executable with `deno compile`:
#   dist/dlbot-<version>-<target>  and  dist/dlbot-<version>-<target>.sha256
# The version comes from src/version.ts, the permissions from scripts/permissions.txt (plus
# --unstable-kv; never -A), and the code is type checked first (never --no-check).
#
# deno compile glues the program onto "denort", Deno's slim runtime. Deno normally downloads it
# from its release server; where that is not reachable, set DENORT_BIN to a denort file that
# matches this Deno version and the target. See `scripts/build.sh --help`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deno="$root/scripts/deno"
deno_version_expected="2.9.6"

usage() {
  cat <<'EOF'
Usage: scripts/build.sh [--target TRIPLE] [--out-dir DIR] [--output FILE] [--allow-download]

Type checks and compiles main.ts into one executable, then prints its path and sha256.

  --target TRIPLE    Deno target (default: this machine's), one of
                     x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu,
                     x86_64-apple-darwin, aarch64-apple-darwin, x86_64-pc-windows-msvc
  --out-dir DIR      where dlbot-<version>-<target> is written (default: dist)
  --output FILE      exact output file instead (its .sha256 is written next to it)
  --allow-download   when DENORT_BIN is unset, let deno download denort itself
                     (only where Deno's release server is reachable, e.g. Docker builds)

Environment:
  DENORT_BIN         path to the denort executable for this Deno version and target
EOF
}

die() {
  printf 'build.sh: %s\n' "$1" >&2
  shift
  for line in "$@"; do printf '  %s\n' "$line" >&2; done
  exit 1
}

target=""
out_dir="$root/dist"
output=""
allow_download=0
while [ $# -gt 0 ]; do
  case "$1" in
    --target) [ $# -ge 2 ] || die "--target needs a value"; target="$2"; shift 2 ;;
    --target=*) target="${1#*=}"; shift ;;
    --out-dir) [ $# -ge 2 ] || die "--out-dir needs a value"; out_dir="$2"; shift 2 ;;
    --out-dir=*) out_dir="${1#*=}"; shift ;;
    --output) [ $# -ge 2 ] || die "--output needs a value"; output="$2"; shift 2 ;;
    --output=*) output="${1#*=}"; shift ;;
    --allow-download) allow_download=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

cd "$root"

# --- version (src/version.ts is the only place it lives) ------------------------------------
version="$(sed -nE 's/^export const VERSION = "([^"]+)";.*/\1/p' src/version.ts)"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] ||
  die "could not read VERSION from src/version.ts (expected: export const VERSION = \"X.Y.Z\";)"

# --- Deno and target --------------------------------------------------------------------------
deno_line="$("$deno" --version | head -n 1)"
deno_version="$(sed -nE 's/^deno ([0-9][^ ]*) .*/\1/p' <<<"$deno_line")"
host_target="$(sed -nE 's/.*, ([a-z0-9_]+-[a-z0-9_]+-[a-z0-9_-]+)\)$/\1/p' <<<"$deno_line")"
[ -n "$deno_version" ] || die "could not read the Deno version from: $deno_line"
if [ -z "$host_target" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) host_target="x86_64-unknown-linux-gnu" ;;
    Linux-aarch64 | Linux-arm64) host_target="aarch64-unknown-linux-gnu" ;;
    Darwin-x86_64) host_target="x86_64-apple-darwin" ;;
    Darwin-arm64) host_target="aarch64-apple-darwin" ;;
    *) die "unknown host platform $(uname -s)-$(uname -m); pass --target" ;;
  esac
fi
target="${target:-$host_target}"
case "$target" in
  x86_64-unknown-linux-gnu | aarch64-unknown-linux-gnu | x86_64-apple-darwin | \
    aarch64-apple-darwin | x86_64-pc-windows-msvc) ;;
  *) die "unsupported --target '$target'" "run scripts/build.sh --help for the list" ;;
esac
if [ "$deno_version" != "$deno_version_expected" ]; then
  printf 'build.sh: warning: building with Deno %s, the project pins %s\n' \
    "$deno_version" "$deno_version_expected" >&2
fi

# --- denort: checked before anything slow, and before deno compile could try a download ---
denort_help=(
  "deno compile builds the executable on top of 'denort', Deno's slim runtime binary."
  "It must be denort from the same Deno release as the compiler (Deno $deno_version here)"
  "and for the target being built ($target)."
  "Get it from the asset denort-$target.zip of the Deno v$deno_version release"
  "(GitHub release denoland/deno v$deno_version, or dl.deno.land/release/v$deno_version/denort-$target.zip),"
  "unzip it, then:  DENORT_BIN=/path/to/denort bash scripts/build.sh"
  "No npm package ships denort (the npm 'deno' packages contain only the full deno CLI)."
)
if [ -n "${DENORT_BIN:-}" ]; then
  [ -e "$DENORT_BIN" ] || die "DENORT_BIN=$DENORT_BIN does not exist." "${denort_help[@]}"
  [ -f "$DENORT_BIN" ] || die "DENORT_BIN=$DENORT_BIN is not a regular file." "${denort_help[@]}"
  [ -x "$DENORT_BIN" ] ||
    die "DENORT_BIN=$DENORT_BIN is not executable (chmod +x it, or unzip it again)." \
      "${denort_help[@]}"
  # The full deno CLI is not a valid base: the compiled program would start the Deno CLI
  # instead of dlbot. denort itself prints no "deno X.Y.Z" banner.
  if [ "$target" = "$host_target" ] &&
    timeout 10 "$DENORT_BIN" --version </dev/null 2>/dev/null | head -n 1 | grep -q '^deno [0-9]'; then
    die "DENORT_BIN=$DENORT_BIN is the full deno CLI, not denort." "${denort_help[@]}"
  fi
  if ! LC_ALL=C grep -qaF "$deno_version" "$DENORT_BIN"; then
    printf 'build.sh: warning: %s does not mention Deno %s; a denort from another release\n' \
      "$DENORT_BIN" "$deno_version" >&2
    printf '  builds a binary that fails at start-up.\n' >&2
  fi
  export DENORT_BIN
elif [ "$allow_download" -eq 0 ]; then
  die "DENORT_BIN is not set, so there is no denort runtime to build on (nothing was downloaded)." \
    "${denort_help[@]}" \
    "(Where Deno's release server is reachable, --allow-download lets deno fetch it instead.)"
fi

# --- output paths ----------------------------------------------------------------------------
suffix=""
[[ "$target" == *windows* ]] && suffix=".exe"
if [ -n "$output" ]; then
  out_file="$output"
else
  out_file="$out_dir/dlbot-$version-$target$suffix"
fi
mkdir -p "$(dirname "$out_file")"
out_file="$(cd "$(dirname "$out_file")" && pwd)/$(basename "$out_file")"

mapfile -t perms < <(grep -v '^[[:space:]]*$' "$root/scripts/permissions.txt")
for flag in "${perms[@]}"; do
  case "$flag" in
    -A | --allow-all) die "scripts/permissions.txt must list single permissions, not $flag" ;;
  esac
done

# Deno 2.9's compile overflows its stack (like denoland/deno#36746) on test data that some npm
# packages ship (bintrees' test/perf/100k, a 2 MB number list parsed as JavaScript). Those folders
# are never loaded at run time, so every version's test/ folder of these packages is left out.
packages_without_tests=(bintrees)

# --- dependencies, type check, compile -------------------------------------------------------
printf '== dlbot %s for %s (Deno %s)\n' "$version" "$target" "$deno_version"
printf '== install dependencies (frozen lock file)\n'
"$deno" install --frozen --quiet
printf '== type check\n'
"$deno" check --quiet main.ts
npm_cache="$("$deno" info --json | sed -nE 's/^ *"npmCache": "(.*)",?$/\1/p')"
exclude_flags=()
for package in "${packages_without_tests[@]}"; do
  for dir in "$npm_cache"/*/"$package"/*/test; do
    if [ -d "$dir" ]; then exclude_flags+=(--exclude "$dir"); fi
  done
done
rm -f "$out_file" "$out_file.sha256"
printf '== compile (%s --unstable-kv)\n' "${perms[*]}"
"$deno" compile --frozen --quiet "${perms[@]}" --unstable-kv "${exclude_flags[@]}" \
  --target "$target" --output "$out_file" main.ts

[ -f "$out_file" ] || die "deno compile reported success but $out_file is missing"
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}
(cd "$(dirname "$out_file")" && sha256 "$(basename "$out_file")" >"$(basename "$out_file").sha256")
sha="$(cut -d' ' -f1 <"$out_file.sha256")"
printf 'built:  %s\nsha256: %s\n' "$out_file" "$sha"
