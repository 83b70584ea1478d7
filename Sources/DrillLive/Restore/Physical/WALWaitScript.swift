import DrillCore
import Foundation

/// The `restore_command` of a restore whose WAL is fetched while it replays (see `WALPrefetcher`): a small shell
/// script in drill's private scratch folder. It only reads drill's private WAL folder (the server never gets
/// credentials, docs/security.md): it copies a file once it is there, waits for one that was announced and has not
/// come yet, and fails at once for any other name, for a served file that is gone, or after a failed fetch (so no
/// segment after a missing one is ever replayed). Without a prefetcher (files imported before replay, no markers) it
/// behaves as `cp`: present files are copied, any other name fails.
public enum WALWaitScript {
    public static func text(walDirectory: String) -> String {
        """
        #!/bin/sh
        # drill's restore_command: hands PostgreSQL the WAL files drill fetches into its private folder.
        d=\(PhysicalSettings.shellQuote(walDirectory))
        while :; do
          [ -e "$d/.failed" ] && exit 1
          if [ -f "$d/$1" ]; then
            cp "$d/$1" "$2" || exit 1
            touch "$d/.served/$1" 2>/dev/null
            exit 0
          fi
          [ -e "$d/.served/$1" ] && exit 1
          grep -qxF -- "$1" "$d/.announced" 2>/dev/null || exit 1
          if [ -e "$d/.complete" ]; then [ -f "$d/$1" ] && continue; exit 1; fi
          sleep 0.05
        done

        """
    }

    /// Writes the script (0755, owned by drill: the server can run it, not change it) and returns its path.
    public static func install(in directory: String, walDirectory: String) throws -> String {
        let path = (directory as NSString).appendingPathComponent("wal-wait.sh")
        try AtomicFile.write(Data(text(walDirectory: walDirectory).utf8), to: path, mode: 0o755, exactMode: true)
        return path
    }
}
