/// The concrete format of a backup, after detection.
public enum BackupFormat: String, Sendable, Codable, CaseIterable {
    case custom, directory, tar, plain
    case plainGzip = "plain.gz"
    case basebackup
    /// A `pg_dumpall` cluster dump (plain SQL): roles and every database, into the embedded scratch cluster only.
    case dumpall
    /// Compressed (other than by gzip alone) or encrypted: the format inside is found while decoding (`Codec`).
    case encoded

    /// Whether `pg_restore` reads it (as opposed to `psql` or a physical restore).
    public var usesPgRestore: Bool { self == .custom || self == .directory || self == .tar }

    /// Whether a restore can read it from a pipe while it downloads.
    public var canStream: Bool { self == .custom || self == .plain || self == .plainGzip || self == .encoded || self == .dumpall }

    /// Whether it is restored one statement stream at a time by `psql` (never in parallel): plain SQL and cluster dumps.
    public var isSQL: Bool { self == .plain || self == .plainGzip || self == .dumpall }
}

extension BackupFormatChoice {
    /// The explicit format, or nil for `auto`.
    public var explicit: BackupFormat? {
        switch self {
        case .auto: nil
        case .custom: .custom
        case .directory: .directory
        case .tar: .tar
        case .plain: .plain
        case .plainGzip: .plainGzip
        case .basebackup: .basebackup
        }
    }
}
