import Foundation

/// The backup a drill would restore: the newest matching one, its format, and what its header says.
public struct LocatedBackup: Sendable {
    public var store: any BackupStore
    public var object: BackupObject
    public var format: BackupFormat
    public var header: ArchiveHeader?
    /// A plain-SQL dump's header comments (the versions that wrote it).
    public var plainHeader: PlainDumpHeader?
    /// The backup's recovery point and where that came from (`archive_header`, `file_mtime`, `object_last_modified`).
    public var recoveryPoint: Date
    public var recoveryPointSource: String
    /// Newer backups that were skipped because they may still be being written (`backup.settle`), one note each.
    public var skipped: [String] = []
}

/// Finds the latest backup of a drill and recognises its format, without fetching it.
public struct BackupLocator: Sendable {
    public var stores: any BackupStoreFactory
    public var archiveTimeZone: TimeZone
    /// When the drill runs: a backup modified less than `backup.settle` before it is skipped as still being written.
    /// Nil skips nothing.
    public var now: Date?

    public init(stores: any BackupStoreFactory, archiveTimeZone: TimeZone, now: Date? = nil) {
        self.stores = stores
        self.archiveTimeZone = archiveTimeZone
        self.now = now
    }

    /// Whether a backup was modified less than `settle` before `now` (a time after `now` is not recent: it is a
    /// clock problem, flagged in the report, not a write in progress).
    public static func isSettling(_ object: BackupObject, now: Date, settle: DrillDuration) -> Bool {
        let age = now.timeIntervalSince(object.modifiedAt)
        return age >= 0 && age < Double(settle.seconds)
    }

    /// Every backup of the drill under its location (metadata only), in no order.
    public func candidates(_ drill: DrillConfig) async throws -> [BackupObject] {
        let store = try stores.store(location: drill.backup.location, endpoint: drill.backup.endpoint, region: drill.backup.region)
        return try await candidates(drill, store)
    }

    private func candidates(_ drill: DrillConfig, _ store: any BackupStore) async throws -> [BackupObject] {
        // Each base backup is a folder (a prefix on S3) under the location.
        let physical = drill.backup.format == .basebackup
        let pattern = drill.backup.pattern.map(Glob.init)
        var all = physical ? try await store.listFolders(matching: pattern) : try await store.list(matching: pattern)
        if !physical { all += try await remoteDirectoryDumps(store, pattern: pattern, besides: all) }
        return all.filter { !$0.name.hasSuffix(".sha256") && (!physical || $0.isDirectory) }
    }

    /// Directory-format dumps in a remote store (an S3 prefix holding `toc.dat` and the `*.dat.gz` files): the
    /// folders under the location whose `toc.dat` starts like a pg_dump archive. A local folder is listed already.
    private func remoteDirectoryDumps(_ store: any BackupStore, pattern: Glob?, besides listed: [BackupObject]) async throws -> [BackupObject] {
        var found: [BackupObject] = []
        for folder in try await store.listFolders(matching: pattern)
        where folder.localPath == nil && !listed.contains(where: { $0.uri == folder.uri }) {
            let head = try await store.head(folder, count: 5)
            if head == Array("PGDMP".utf8) { found.append(folder) }
        }
        return found
    }

    public func locate(_ drill: DrillConfig) async throws -> LocatedBackup {
        let store = try stores.store(location: drill.backup.location, endpoint: drill.backup.endpoint, region: drill.backup.region)
        let all = try await candidates(drill, store)
        guard !all.isEmpty else {
            throw DrillError(.backupNotFound, "no backup matching \"\(drill.backup.pattern ?? "*")\" in \(Self.display(drill))")
        }
        let settle = drill.backup.settle
        let settling = now.map { now in all.filter { Self.isSettling($0, now: now, settle: settle) } } ?? []
        guard let object = all.filter({ o in !settling.contains { $0.uri == o.uri } }).latest() else {
            let newest = settling.latest()!
            throw DrillError(.backupNotFound,
                             "no settled backup in \(Self.display(drill)): every backup matching \"\(drill.backup.pattern ?? "*")\" was modified "
                                 + "less than backup.settle (\(settle)) ago, the newest, \(newest.name), \(Self.age(newest, now!)) ago; "
                                 + "it may still be being written")
        }
        let skipped = settling.sorted { $0.modifiedAt > $1.modifiedAt }.map {
            "Skipped \($0.name), modified \(Self.age($0, now!)) before the drill started (less than backup.settle, \(settle)): "
                + "it may still be being written; restored the newest settled backup, \(object.name)."
        }
        let head = try await headBytes(store, object, drill)
        let format: BackupFormat
        if let explicit = drill.backup.format.explicit {
            format = explicit
        } else if object.isDirectory {
            if !head.isEmpty {
                format = .directory
            } else if let dir = object.localPath, Self.looksLikeBaseBackup(dir) {
                format = .basebackup
            } else {
                throw DrillError(.backupUnreadable,
                                 "\(object.uri) is a folder without toc.dat, base.tar or backup_label: neither a directory-format dump nor a base backup")
            }
        } else {
            switch FormatDetector.detect(fileHead: head) {
            case .format(let f): format = f
            case .unknown(let why): throw DrillError(.backupCorrupt, "cannot recognise \(object.name): \(why)")
            }
        }
        if format == .directory, !object.isDirectory {
            throw DrillError(.backupUnreadable, "\(object.uri) is a file, but backup.format is directory")
        }
        var header: ArchiveHeader?
        if format.usesPgRestore {
            do {
                header = try ArchiveHeader.parse(format == .tar ? FormatDetector.tarTocBytes(head) : head)
            } catch {
                throw DrillError(.backupCorrupt, "\(object.name): \(error)")
            }
        }
        let plainHeader = format == .plain || format == .dumpall ? PlainDumpHeader.parse(head) : nil
        if let created = header?.createdAt(in: archiveTimeZone) {
            return LocatedBackup(store: store, object: object, format: format, header: header, plainHeader: plainHeader,
                                 recoveryPoint: created, recoveryPointSource: "archive_header", skipped: skipped)
        }
        return LocatedBackup(store: store, object: object, format: format, header: header, plainHeader: plainHeader,
                             recoveryPoint: object.modifiedAt,
                             recoveryPointSource: object.localPath != nil ? "file_mtime" : "object_last_modified",
                             skipped: skipped)
    }

    /// The drill's location for messages: without credentials (`URLRedaction`).
    private static func display(_ drill: DrillConfig) -> String { URLRedaction.redactURLs(in: drill.backup.location) }

    private static func age(_ object: BackupObject, _ now: Date) -> String { formatSeconds(now.timeIntervalSince(object.modifiedAt)) }

    /// The newest segment in a drill's WAL archive (`wal.location`), or nil when the drill has none or it is empty.
    /// For a physical backup its age is the RPO a restore would achieve right now.
    public func newestArchivedWAL(_ drill: DrillConfig) async throws -> BackupObject? {
        guard let wal = drill.wal else { return nil }
        let store = try stores.store(location: wal.location, endpoint: wal.endpoint, region: wal.region)
        return WALArchive(objects: try await store.list(matching: nil)).newest?.file.object
    }

    /// A folder written by `pg_basebackup`: tar format (`base.tar[.gz]`) or plain format (`backup_label`).
    static func looksLikeBaseBackup(_ dir: String) -> Bool {
        ["base.tar", "base.tar.gz", "backup_label"].contains {
            FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent($0))
        }
    }

    private func headBytes(_ store: any BackupStore, _ object: BackupObject, _ drill: DrillConfig) async throws -> [UInt8] {
        if object.isDirectory, drill.backup.format == .basebackup { return [] }
        if object.isDirectory, let dir = object.localPath {
            return LocalHead.read((dir as NSString).appendingPathComponent("toc.dat"), count: 4096) ?? []
        }
        if let path = object.localPath {
            guard let bytes = LocalHead.read(path, count: 4096) else {
                throw DrillError(.backupUnreadable, "cannot read \(object.uri)")
            }
            return bytes
        }
        return try await store.head(object, count: 4096)
    }
}
