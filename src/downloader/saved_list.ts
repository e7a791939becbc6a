/**
 * A list's songs before anything is downloaded: spotDL's `save` operation (`console/save.py`)
 * writes them to a `.spotdl` file (the `Song` dataclass of each, as JSON), and a `.spotdl` file
 * given as the query of `download` downloads exactly those songs in that order
 * (`utils/search.py`), without asking Spotify for the list again.
 *
 * @module
 */
import { z } from "zod";

/** The file a list's songs are saved to, in the job's directory. */
export const SAVED_LIST_FILE = "dlbot-list.spotdl";

/** What the bot reads of one saved song; spotDL writes many more fields. */
const savedSongSchema = z.object({
  /** Spotify's track id. */
  song_id: z.string().min(1),
  /** `https://open.spotify.com/track/<id>`, as `--print-errors` names a failed song. */
  url: z.string().min(1),
});

/** One song of a saved list. */
export type SavedSong = z.infer<typeof savedSongSchema>;

const savedListSchema = z.array(savedSongSchema);

/** The songs of a `.spotdl` file, in list order; throws when it is not one. */
export async function readSavedList(path: string): Promise<SavedSong[]> {
  return savedListSchema.parse(JSON.parse(await Deno.readTextFile(path)));
}

/**
 * The arguments of a `spotdl save` run from those of the configured `download` run: the same
 * options (credentials, cookies, audio provider) with the operation swapped, no playlist file,
 * the save file added and no lyrics search (`--lyrics` with no provider: the download looks them
 * up). Undefined when the arguments have no `download` operation to swap (not spotDL's).
 */
export function saveArgs(downloadArgs: readonly string[], saveFile: string): string[] | undefined {
  const operation = downloadArgs.indexOf("download");
  if (operation === -1) return undefined;
  const args: string[] = [];
  for (let i = 0; i < downloadArgs.length; i++) {
    const arg = downloadArgs[i] ?? "";
    if (arg === "--m3u") {
      i++;
      continue;
    }
    args.push(i === operation ? "save" : arg);
  }
  return [...args, "--save-file", saveFile, "--lyrics"];
}
