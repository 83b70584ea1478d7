import Foundation

/// The `barman-cloud` drill: the newest backup `barman-cloud-backup` wrote into a bucket, restored with
/// `barman-cloud-restore` into a private scratch cluster, then recovered from the WAL `barman-cloud-wal-archive`
/// archived. Phases: fetch (the catalogue) → provision (with the PostgreSQL of the backup's major) → restore →
/// wal_fetch ∥ wal_replay.
///
/// drill fetches the WAL itself, with its own S3 client, into the scratch's private WAL folder while the server
/// replays (several files at once, at most `wal.window_mib` ahead; compressions it does not read, `.bz2` and
/// `.snappy`, through `barman-cloud-wal-restore`); the restored server's `restore_command` only reads that folder, so
/// the server never holds credentials and never talks to the bucket.
public struct BarmanCloudMethod: DrillMethod {
    public var tool: (any BarmanCloudTool)?
    /// The installed PostgreSQL versions, to choose the backup's major; nil: the tool's default.
    public var postgres: (any PostgresCatalog)?

    public init(tool: (any BarmanCloudTool)?, postgres: (any PostgresCatalog)? = nil) {
        self.tool = tool
        self.postgres = postgres
    }

    /// The newest backup's PostgreSQL major, from the catalogue and its `backup.info` (for `drill plan`).
    public func versionNeed(_ drill: DrillConfig, _ context: MethodContext) async throws -> VersionNeed? {
        let s = try Self.settings(drill)
        let (backups, _) = try await requireTool().listBackups(s)
        return try await choose(s, backups, target: Self.target(drill), context.stores).versionNeed(source: "barman-cloud backup.info")
    }

    static func settings(_ drill: DrillConfig) throws -> BarmanCloudSettings {
        try drill.settings(as: BarmanCloudSettings.self, kind: .barmanCloud)
    }

    private func requireTool() throws -> any BarmanCloudTool {
        guard let tool else { throw DrillError(.unsupported, "this build of drill cannot run barman-cloud drills") }
        return tool
    }

    public func locate(_ drill: DrillConfig, _ context: MethodContext) async throws -> RestorePoint {
        let s = try Self.settings(drill)
        let (backups, _) = try await requireTool().listBackups(s)
        let chosen = try await choose(s, backups, target: Self.target(drill), context.stores)
        return Self.point(s, chosen)
    }

    /// Every completed backup in the catalogue, at its end (the zoned time of its `backup.info`).
    public func restorePoints(_ drill: DrillConfig, _ context: MethodContext) async throws -> [RestorePoint] {
        let s = try Self.settings(drill)
        let (backups, _) = try await requireTool().listBackups(s)
        var out: [RestorePoint] = []
        for b in BarmanCatalogue.usable(backups) {
            let info = try await Self.backupInfo(s, id: b.id, context.stores)
            out.append(Self.point(s, info.map { b.merged(with: $0) } ?? b))
        }
        return out
    }

    /// A restore now would reach the newest archived WAL file (its time in the bucket).
    public func plan(_ drill: DrillConfig, _ context: MethodContext) async throws -> PlanPoint {
        let s = try Self.settings(drill)
        let (backups, _) = try await requireTool().listBackups(s)
        let chosen = try await choose(s, backups, target: Self.target(drill), context.stores)
        let point = Self.point(s, chosen)
        let segmentSize = chosen.segmentSize ?? WALSegment.defaultSize
        if let start = try? BarmanRecovery.startSegment(chosen, segmentSize: segmentSize) {
            let listed = try await BarmanCloudWAL.list(s, from: start, stores: context.stores)
            let archive = BarmanCloudWAL.classify(listed.objects, segmentSize: segmentSize)
            if let newest = archive.newest {
                return PlanPoint(point: point, newestRecoverable: newest.file.object.modifiedAt,
                                 newestRecoverableSource: "barman-cloud WAL archive, newest segment \(newest.segment.name)")
            }
        }
        guard let end = chosen.endTime else { throw DrillError(.backupUnreadable, "backup \(chosen.id) has no end time") }
        return PlanPoint(point: point, newestRecoverable: end, newestRecoverableSource: "backup_end")
    }

    public func restore(_ drill: DrillConfig, _ run: MethodRun) async throws -> Restored {
        let s = try Self.settings(drill)
        let tool = try requireTool()
        guard drill.target == .embedded else {
            throw DrillError(.configuration, "a barman-cloud backup is restored into a private scratch cluster: target.kind must be embedded")
        }
        let target = Self.target(drill)
        run.evidence(DrillReport.WAL(location: s.walPrefix, target: target.description))
        var evidence = BarmanEvidence(kind: .barmanCloud, server: s.server, location: s.location)

        let backup = try await run.phase(.fetch, detail: "barman-cloud-backup-list \(s.location) \(s.server)") {
            let (backups, toolName) = try await tool.listBackups(s)
            evidence.tool = toolName
            evidence.backupsListed = backups.count
            evidence.backupsDone = backups.filter(\.isDone).count
            run.evidence(evidence)
            let chosen = try await choose(s, backups, target: target, run.context.stores)
            evidence.record(chosen)
            run.evidence(evidence)
            try await run.located(Self.point(s, chosen), staged: false)
            return chosen
        }
        run.logger.info("latest barman-cloud backup", metadata: ["backup_id": "\(backup.id)", "server": "\(s.server)"])
        // The PostgreSQL of the backup's major, chosen before anything is provisioned.
        let chosen = try await run.choosePostgres(backup.versionNeed(source: "barman-cloud backup.info"), catalog: postgres,
                                                  drill: drill, needsServer: true)

        let scratch = try await run.phase(.provision, detail: "scratch cluster for \(backup.id)") {
            run.adopt(try await tool.prepare(drill: drill, postgres: chosen))
        }
        let restored = try await run.phase(.restore, detail: "barman-cloud-restore \(backup.id)") {
            try await scratch.restore(s, backup: backup.id)
        }
        run.backup { $0.sizeBytes = restored.bytes }
        run.restoreInfo {
            $0.mode = "barman-cloud-restore"
            $0.jobs = 1
        }

        return try await WALReplay<DrillReport.WAL>.scoped(run, scratch, target: target) { replay in
            let segmentSize = restored.walSegmentSize
            // The objects of every `wals/` folder are fetched by their keys through the archive's root.
            let store = try run.context.stores.store(location: s.walPrefix, endpoint: s.endpoint, region: s.region)
            let wal = try await replay.start(detail: s.walPrefix, tuning: s.wal, list: {
                let start = try BarmanRecovery.startSegment(backup, segmentSize: segmentSize)
                let found = try await BarmanCloudWAL.list(s, from: start, stores: run.context.stores)
                return try BarmanRecovery.listing(backup, BarmanCloudWAL.classify(found.objects, segmentSize: segmentSize),
                                                  segmentSize: segmentSize, run)
            }, deliver: { files, options in
                // What the plan hands to the tool, recorded whether or not replay needs every file.
                run.evidence(BarmanEvidence.self) { $0.walFetchedWithTool = files.filter(BarmanCloudWAL.needsTool).count }
                return try await scratch.deliverWAL(files, from: store, settings: s, options: options)
            })
            return try await replay.replay(wal, fallback: backup.endTime, tool: "postgres (archive recovery)")
        }
    }

    static func target(_ drill: DrillConfig) -> RecoveryTarget { RecoveryTarget(drill.recovery?.target ?? "latest") ?? .latest }

    /// Picks the backup from the catalogue; its zoned times come from its `backup.info` (the list's are zone-less).
    private func choose(_ s: BarmanCloudSettings, _ backups: [BarmanBackup], target: RecoveryTarget,
                        _ stores: any BackupStoreFactory) async throws -> BarmanBackup {
        try await BarmanCatalogue.choose(backups, target: target, place: "\(s.location) (server \(s.server))") { b in
            guard let info = try await Self.backupInfo(s, id: b.id, stores) else { return b }
            return b.merged(with: info)
        }
    }

    /// Reads `base/<id>/backup.info` with drill's own S3 client; nil when it is not there.
    static func backupInfo(_ s: BarmanCloudSettings, id: String, _ stores: any BackupStoreFactory) async throws -> BarmanBackup? {
        let store = try stores.store(location: s.backupPrefix(id), endpoint: s.endpoint, region: s.region)
        guard let object = try await store.list(matching: Glob("backup.info")).first else { return nil }
        let bytes = try await store.head(object, count: 1 << 20)
        return BarmanCloudJSON.backupInfo(String(decoding: bytes, as: UTF8.self), id: id)
    }

    static func point(_ s: BarmanCloudSettings, _ b: BarmanBackup) -> RestorePoint {
        RestorePoint(uri: s.backupPrefix(b.id), name: b.id, format: "barman-cloud", sizeBytes: b.sizeBytes,
                     createdAt: b.endTime, payload: b)
    }
}
