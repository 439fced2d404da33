/** What files a source's last load read, for the watcher (HeatmapSource.files). */

/**
 * The files a source's last load read (HeatmapSource.files): `start()` begins a new load's list, seeded with
 * `initial`, and returns the callback that adds each file the load reads (loadSpec's onRef).
 */
export function fileTrail(initial: readonly string[] = []): { files: () => readonly string[]; start: () => (file: string) => void } {
  let files: readonly string[] = [...new Set(initial)];
  return {
    files: () => files,
    start: () => {
      const seen = new Set(initial);
      files = [...seen];
      return (file) => {
        seen.add(file);
        files = [...seen];
      };
    },
  };
}
