import Foundation

/// A `dump` drill: the newest `pg_dump` file (custom, directory, tar, plain, plain.gz) under `backup.location`,
/// restored with `pg_restore` or `psql` into a scratch database.
public struct DumpSettings: FileBackupSettings, Equatable {
    public var backup: BackupConfig

    public init(backup: BackupConfig) { self.backup = backup }

    public var kind: MethodKind { .dump }
    public var source: String { backup.location }
    public var supportsServerTarget: Bool { true }

    public func resolvingPaths(_ resolve: (String) -> String) -> any MethodSettings {
        var s = self
        s.backup.location = resolve(backup.location)
        s.backup.decrypt = backup.decrypt?.resolvingPaths(resolve)
        return s
    }
}

/// Parses a `dump` drill's `backup` object.
public struct DumpParser: MethodParser {
    public init() {}
    public var kind: MethodKind { .dump }
    public var keys: Set<String> { ["backup"] }

    public func parse(_ top: [String: JSONValue], reader r: ConfigReader) -> (any MethodSettings)? {
        guard let backup = BackupConfig.parse(top["backup"], reader: r) else { return nil }
        if backup.format == .basebackup {
            r.fail("backup.format", "a basebackup is restored with its WAL archive: give wal.location (or backup.kind: basebackup)")
        }
        return DumpSettings(backup: backup)
    }
}

extension MethodKind {
    public static let dump: MethodKind = "dump"
}
