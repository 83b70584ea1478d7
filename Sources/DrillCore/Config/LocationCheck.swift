import Foundation

/// Local locations that cannot be right, found when the config is loaded (`drill validate`, `run`, `plan`): a
/// `backup.location` or `wal.location` that exists but is not a folder. A location that does not exist yet is not a
/// configuration error (the first backup may be still to come); `drill plan` shows it.
enum LocationCheck {
    static func issues(_ drill: DrillConfig) -> [ConfigIssue] {
        var out: [ConfigIssue] = []
        if let files = drill.settings as? any FileBackupSettings, let problem = problem(files.backup.location) {
            out.append(ConfigIssue(file: drill.file, keyPath: "backup.location", message: problem
                + "; give the folder that holds the backups (backup.pattern chooses among its files)"))
        }
        if let wal = drill.wal, let problem = problem(wal.location) {
            out.append(ConfigIssue(file: drill.file, keyPath: "wal.location", message: problem + "; give the WAL archive's folder"))
        }
        return out
    }

    /// Why a local location is unusable, or nil (a folder, a remote location, or nothing there yet).
    static func problem(_ location: String) -> String? {
        let path: String
        if location.hasPrefix("file://") {
            path = String(location.dropFirst("file://".count))
        } else if URLScheme.of(location) == nil {
            path = (location as NSString).expandingTildeInPath
        } else {
            return nil
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else { return nil }
        return "\(path) is a file, not a folder"
    }
}
