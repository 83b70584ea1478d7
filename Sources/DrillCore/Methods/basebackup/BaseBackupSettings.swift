import Foundation

/// A `basebackup` drill: the newest `pg_basebackup` folder under `backup.location` (tar, tar.gz or plain), extracted
/// into a private scratch cluster and recovered from the WAL archive at `wal.location`.
public struct BaseBackupSettings: FileBackupSettings, Equatable {
    public var backup: BackupConfig
    /// The WAL archive to replay (required by the parser; nil only in hand-made configs, which then fail to run).
    public var wal: WALConfig?

    public init(backup: BackupConfig, wal: WALConfig?) {
        self.backup = backup
        self.wal = wal
    }

    public var kind: MethodKind { .basebackup }
    public var source: String { backup.location }
    public var supportsServerTarget: Bool { false }

    public func resolvingPaths(_ resolve: (String) -> String) -> any MethodSettings {
        var s = self
        s.backup.location = resolve(backup.location)
        if let w = wal { s.wal?.location = resolve(w.location) }
        return s
    }
}

/// Parses a `basebackup` drill's `backup` and `wal` objects.
public struct BaseBackupParser: MethodParser {
    public init() {}
    public var kind: MethodKind { .basebackup }
    public var keys: Set<String> { ["backup", "wal"] }

    public func parse(_ top: [String: JSONValue], reader r: ConfigReader) -> (any MethodSettings)? {
        let backup = BackupConfig.parse(top["backup"], reader: r)
        var wal: WALConfig?
        if let w = r.object(top["wal"], at: "wal", allowed: ["location", "endpoint", "region", "connections", "window_mib"]) {
            let tuning = WALTuning.read(w, reader: r)
            if let loc = r.string(w["location"], at: "wal.location", required: true) {
                wal = WALConfig(location: loc, endpoint: r.string(w["endpoint"], at: "wal.endpoint"),
                                region: r.string(w["region"], at: "wal.region"),
                                connections: tuning.connections, windowBytes: tuning.windowBytes)
            }
        } else if top["wal"] == nil {
            r.fail("wal", "a basebackup drill needs wal.location: the WAL archive to replay")
        }
        guard let backup else { return nil }
        return BaseBackupSettings(backup: backup, wal: wal)
    }
}

extension MethodKind {
    public static let basebackup: MethodKind = "basebackup"
}
