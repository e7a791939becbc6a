/**
 * Building the downloader's command line: placeholder substitution in an argument array (never a
 * shell string) and a PATH lookup, since Deno has no `which`.
 *
 * @module
 */

/** Values for the placeholders dlbot owns; every other `{placeholder}` is left for the downloader. */
export interface ArgValues {
  /** The canonical Spotify URL. */
  url: string;
  /** The job's output directory. */
  output_dir: string;
}

const PLACEHOLDER = /\{(url|output_dir)\}/g;

/**
 * Substitutes `{url}` and `{output_dir}` inside each argument, in a single pass (a value that
 * itself contains `{output_dir}` is not substituted again). Other placeholders, such as spotDL's
 * `{artists}`, `{title}` and `{output-ext}`, stay as they are. Arguments are never split, joined
 * or interpreted: each template entry is exactly one argument.
 */
export function buildArgs(template: readonly string[], values: ArgValues): string[] {
  return template.map((arg) =>
    arg.replace(
      PLACEHOLDER,
      (_match, key: string) => key === "url" ? values.url : values.output_dir,
    )
  );
}

/**
 * Finds the executable a command name refers to. A name containing `/` is a path (relative to the
 * current directory) and is checked directly; otherwise each directory of `pathEnv` (colon
 * separated; empty entries are skipped rather than meaning the current directory) is searched.
 * Returns the absolute path of a regular file with an execute bit, or `null`.
 */
export async function resolveExecutable(
  command: string,
  pathEnv: string | undefined,
): Promise<string | null> {
  if (command === "") return null;
  if (command.includes("/")) {
    const path = command.startsWith("/") ? command : `${Deno.cwd()}/${command}`;
    return await isExecutableFile(path) ? normalisePath(path) : null;
  }
  for (const dir of (pathEnv ?? "").split(":")) {
    if (dir === "") continue;
    const candidate = `${dir.replace(/\/+$/, "")}/${command}`;
    if (await isExecutableFile(candidate)) {
      return normalisePath(candidate.startsWith("/") ? candidate : `${Deno.cwd()}/${candidate}`);
    }
  }
  return null;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile) return false;
    return info.mode === null || (info.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

function normalisePath(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

const SPOTDL_HINT =
  "install it with `pipx install spotdl` (and ffmpeg: `spotdl --download-ffmpeg` or your package " +
  "manager), or set downloader.command in config/bot.toml";

/** What to tell an admin whose downloader executable is missing: the problem and a hint. */
export function missingText(command: string): { message: string; hint: string } {
  const base = command.slice(command.lastIndexOf("/") + 1);
  const message = command.includes("/")
    ? `${command} does not exist or is not executable`
    : `${command} was not found on PATH`;
  const hint = base === "spotdl" ? SPOTDL_HINT : "install it, or set downloader.command in " +
    "config/bot.toml to the name of an executable on PATH or its full path";
  return { message, hint };
}

/** Whether starting a process failed because the executable is missing or not runnable. */
export function isMissingError(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.NotCapable;
}

/** This process's PATH; undefined when unset or not readable. */
export function envPath(): string | undefined {
  try {
    return Deno.env.get("PATH");
  } catch {
    return undefined;
  }
}
