import Foundation

/// One installed PostgreSQL: a bin folder and the version its programs report.
public struct PostgresInstallation: Sendable, Equatable, Codable {
    public var directory: String
    public var version: PostgresVersion
    /// How it was found: `restore.postgres`, `DRILL_PG_BINDIR`, `pg_config`, `PATH`, `/usr/lib/postgresql`.
    public var origin: String
    /// Whether it holds the server (`initdb` and `postgres`), not only the client tools.
    public var hasServer: Bool
    /// The compressed archives its `pg_restore` reads; nil when that could not be learnt.
    public var compression: CompressionSupport?

    public init(directory: String, version: PostgresVersion, origin: String, hasServer: Bool = true,
                compression: CompressionSupport? = nil) {
        self.directory = directory
        self.version = version
        self.origin = origin
        self.hasServer = hasServer
        self.compression = compression
    }

    /// Whether its `pg_restore` reads archives compressed with `c`; nil when unknown.
    public func reads(_ c: DumpCompression) -> Bool? {
        if c == .none { return true }
        return compression?.reads(c)
    }

    /// `18.6 (/opt/pg18/bin)`.
    public var label: String { "\(version.description) (\(directory))" }
}

/// Every PostgreSQL a drill may use, in order of preference (an explicit choice first, then `pg_config --bindir`,
/// `PATH`, `/usr/lib/postgresql/<major>/bin` newest first), and where they were looked for.
public struct PostgresInventory: Sendable, Equatable {
    public var installations: [PostgresInstallation]
    /// Where drill looked (for the message when none fits).
    public var searched: String
    /// Folders that were named (in `restore.postgres` or `DRILL_PG_BINDIR`) but hold no usable PostgreSQL.
    public var unusable: [String]

    public init(installations: [PostgresInstallation], searched: String, unusable: [String] = []) {
        self.installations = installations
        self.searched = searched
        self.unusable = unusable
    }
}

/// Finds the installed PostgreSQL versions a drill may use (the live one runs each folder's `postgres --version`).
public protocol PostgresCatalog: Sendable {
    /// `restore.postgres` of the drill, when given, is the only candidate.
    func inventory(for drill: DrillConfig) async -> PostgresInventory
}
