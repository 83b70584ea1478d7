import Foundation

/// The `barman-cloud` drill: the newest backup `barman-cloud-backup` wrote into a bucket, restored with
/// `barman-cloud-restore` into a private scratch cluster, then recovered from the WAL `barman-cloud-wal-archive`
/// archived. Phases: fetch (the catalogue) → provision → restore → wal_fetch → wal_replay.
///
/// drill fetches the WAL itself, with its own S3 client, into the scratch's private WAL folder (compressions it does
/// not read, `.bz2` and `.snappy`, through `barman-cloud-wal-restore`); the restored server's `restore_command` only
/// copies from that folder, so the server never holds credentials and never talks to the bucket.
public struct BarmanCloudMethod: DrillMethod {
    public var tool: (any BarmanCloudTool)?

    public init(tool: (any BarmanCloudTool)?) { self.tool = tool }

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

        let scratch = try await run.phase(.provision, detail: "scratch cluster for \(backup.id)") {
            run.adopt(try await tool.prepare(drill: drill))
        }
        let bytes = try await run.phase(.restore, detail: "barman-cloud-restore \(backup.id)") {
            try await scratch.restore(s, backup: backup.id)
        }
        run.backup { $0.sizeBytes = bytes }
        run.restoreInfo {
            $0.mode = "barman-cloud-restore"
            $0.jobs = 1
        }

        let recovery = BarmanRecovery(run: run, scratch: scratch, backup: backup, target: target)
        let segmentSize = backup.segmentSize ?? WALSegment.defaultSize
        let targetTime = try await run.phase(.walFetch, detail: s.walPrefix) {
            let start = try BarmanRecovery.startSegment(backup, segmentSize: segmentSize)
            let listed = try await BarmanCloudWAL.list(s, from: start, stores: run.context.stores)
            let archive = BarmanCloudWAL.classify(listed.objects, segmentSize: segmentSize)
            var viaTool = 0
            let time = try await recovery.fetch(archive, segmentSize: segmentSize) { file in
                if BarmanCloudWAL.needsTool(file) {
                    viaTool += 1
                    return try await scratch.fetchWAL(s, walName: file.walName)
                }
                return try await scratch.importWAL(file, from: listed.store)
            }
            run.evidence(BarmanEvidence.self) { [viaTool] in $0.walFetchedWithTool = viaTool }
            return time
        }
        return try await recovery.replay(to: targetTime)
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
