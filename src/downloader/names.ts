/**
 * Reading the names spotDL gives files (`{artists} - {title}.{output-ext}` by default) and
 * its list titles ("Artist - Title"), and making a title into one file name.
 *
 * @module
 */

/** Last path segment of a file name relative to the job's directory. */
export function baseName(fileName: string): string {
  return fileName.split(/[\\/]/).pop() || fileName;
}

/** The last path segment without its extension: "Album/Artist - Song.mp3" → "Artist - Song". */
export function fileStem(fileName: string): string {
  return baseName(fileName).replace(/\.[A-Za-z0-9]{1,5}$/, "");
}

/** "Artist - Title" → both; a text without " - " is a title only. */
export function splitArtistTitle(text: string): { artist?: string; title: string } {
  const at = text.indexOf(" - ");
  return at <= 0 ? { title: text } : { artist: text.slice(0, at), title: text.slice(at + 3) };
}

/**
 * `text` as one segment of a path: slashes, backslashes and control characters become spaces,
 * runs of white space one space, and the ends are trimmed (may be empty).
 */
export function asPathSegment(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[/\\\u0000-\u001f\u007f]/g, " ").replace(/\s+/g, " ").trim();
}
