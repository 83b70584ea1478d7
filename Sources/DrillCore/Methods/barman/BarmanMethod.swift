import Foundation

/// The `barman` drill: the newest backup in a Barman server's catalogue on this host, checked with
/// `barman check-backup` and `barman verify-backup`, restored with `barman recover` into a private scratch cluster,
/// and recovered from the WAL in Barman's catalogue. Phases: fetch (the catalogue) → verify → provision (with the
/// PostgreSQL of the backup's major) → restore → wal_fetch ∥ wal_replay.
///
/// `barman recover --get-wal` runs without a target and copies only the backup's files. drill lists the WAL the
/// catalogue holds from the backup on (`barman list-files --target wal`), checks it for gaps, copies it into the
/// scratch's private folder while the server replays (several files at once, at most `wal.window_mib` ahead), and
/// writes the recovery settings itself (`restore_command` reading that folder, the target, `archive_mode = off`).
public struct BarmanMethod: DrillMethod {
    public var tool: (any BarmanTool)?
    /// The installed PostgreSQL versions, to choose the backup's major; nil: the tool's default.
    public var postgres: (any PostgresCatalog)?

    public init(tool: (any BarmanTool)?, postgres: (any PostgresCatalog)? = nil) {
        self.tool = tool
        self.postgres = postgres
    }

    static func settings(_ drill: DrillConfig) throws -> BarmanSettings { try drill.settings(as: BarmanSettings.self, kind: .barman) }

    private func requireTool() throws -> any BarmanTool {
        guard let tool else { throw DrillError(.unsupported, "this build of drill cannot run barman drills") }
        return tool
    }

    public func locate(_ drill: DrillConfig, _ context: MethodContext) async throws -> RestorePoint {
        let s = try Self.settings(drill)
        let tool = try requireTool()
        return Self.point(s, try await choose(s, try await tool.listBackups(s), tool, target: BarmanCloudMethod.target(drill)))
    }

    /// The newest backup's PostgreSQL major, as `barman show-backup` records it (for `drill plan`).
    public func versionNeed(_ drill: DrillConfig, _ context: MethodContext) async throws -> VersionNeed? {
        let s = try Self.settings(drill)
        let tool = try requireTool()
        return try await choose(s, try await tool.listBackups(s), tool, target: BarmanCloudMethod.target(drill))
            .versionNeed(source: "barman show-backup")
    }

    /// Every completed backup in the catalogue, at its end (`end_time_timestamp`, whole seconds).
    public func restorePoints(_ drill: DrillConfig, _ context: MethodContext) async throws -> [RestorePoint] {
        let s = try Self.settings(drill)
        return BarmanCatalogue.usable(try await requireTool().listBackups(s)).map { Self.point(s, $0) }
    }

    /// A restore now would reach the newest WAL file Barman archived after the backup.
    public func plan(_ drill: DrillConfig, _ context: MethodContext) async throws -> PlanPoint {
        let s = try Self.settings(drill)
        let tool = try requireTool()
        let chosen = try await choose(s, try await tool.listBackups(s), tool, target: BarmanCloudMethod.target(drill))
        let point = Self.point(s, chosen)
        let wal = try await tool.walFiles(s, id: chosen.id).filter { WALSegment.looksLikeName($0.name) }
        if let newest = wal.max(by: { $0.name < $1.name }) {
            return PlanPoint(point: point, newestRecoverable: newest.modifiedAt,
                             newestRecoverableSource: "barman WAL archive, newest segment \(newest.name)")
        }
        guard let end = chosen.endTime else { throw DrillError(.backupUnreadable, "backup \(chosen.id) has no end time") }
        return PlanPoint(point: point, newestRecoverable: end, newestRecoverableSource: "backup_end")
    }

    public func restore(_ drill: DrillConfig, _ run: MethodRun) async throws -> Restored {
        let s = try Self.settings(drill)
        let tool = try requireTool()
        guard drill.target == .embedded else {
            throw DrillError(.configuration, "a Barman backup is restored into a private scratch cluster: target.kind must be embedded")
        }
        let target = BarmanCloudMethod.target(drill)
        run.evidence(DrillReport.WAL(location: "barman recover (server \(s.server))", target: target.description))
        var evidence = BarmanEvidence(kind: .barman, server: s.server, location: s.config ?? "barman's default configuration")

        let backup = try await run.phase(.fetch, detail: "barman list-backups \(s.server)") {
            evidence.tool = await tool.version(s)
            let backups = try await tool.listBackups(s)
            evidence.backupsListed = backups.count
            evidence.backupsDone = backups.filter(\.isDone).count
            run.evidence(evidence)
            let chosen = try await choose(s, backups, tool, target: target)
            evidence.record(chosen)
            run.evidence(evidence)
            try await run.located(Self.point(s, chosen), staged: false)
            return chosen
        }
        run.logger.info("latest barman backup", metadata: ["backup_id": "\(backup.id)", "server": "\(s.server)"])
        // The PostgreSQL of the backup's major, chosen before anything is verified or provisioned.
        let chosen = try await run.choosePostgres(backup.versionNeed(source: "barman show-backup"), catalog: postgres, drill: drill,
                                                  needsServer: true)

        let verified = try await run.phase(.verify, detail: "barman check-backup, verify-backup \(backup.id)") {
            let check = try await tool.checkBackup(s, id: backup.id)
            run.evidence(BarmanEvidence.self) { $0.checkBackup = check }
            guard check.ok else {
                throw DrillError(.walGap, "barman check-backup says backup \(backup.id) cannot be made consistent: \(check.detail ?? "it failed")")
            }
            let (verify, available) = try await tool.verifyBackup(s, id: backup.id)
            run.evidence(BarmanEvidence.self) { $0.verifyBackup = verify }
            if !verify.ok && available {
                throw DrillError(.backupCorrupt, "barman verify-backup found backup \(backup.id) damaged: \(verify.detail ?? "pg_verifybackup failed")")
            }
            if !verify.ok {
                run.finding("barman verify-backup could not check backup \(backup.id) (\(verify.detail ?? "unavailable")); only the replay proves it.")
            }
            return verify.ok
        }
        run.evidence(DrillReport.WAL.self) { $0.verifiedWith = verified ? "barman verify-backup (pg_verifybackup)" : nil }

        let scratch = try await run.phase(.provision, detail: "scratch cluster for \(backup.id)") {
            run.adopt(try await tool.prepare(drill: drill, postgres: chosen))
        }
        let restored = try await run.phase(.restore, detail: "barman recover --get-wal \(backup.id)") {
            try await scratch.restore(s, backup: backup.id)
        }
        run.backup { $0.sizeBytes = backup.sizeBytes }
        run.restoreInfo {
            $0.mode = "barman recover"
            $0.jobs = 1
        }

        return try await WALReplay<DrillReport.WAL>.scoped(run, scratch, target: target) { replay in
            let wal = try await replay.start(detail: "barman list-files --target wal \(backup.id)", tuning: s.wal, list: {
                let segmentSize = restored.walSegmentSize
                let files = try await tool.walFiles(s, id: backup.id)
                return try BarmanRecovery.listing(backup, WALArchive(objects: files, segmentSize: segmentSize), segmentSize: segmentSize, run)
            }, deliver: { files, options in
                try await scratch.deliverWAL(files, options: options)
            })
            return try await replay.replay(wal, fallback: backup.endTime, tool: "postgres (archive recovery)")
        }
    }

    /// Picks the backup; its zoned times come from `barman show-backup`.
    private func choose(_ s: BarmanSettings, _ backups: [BarmanBackup], _ tool: any BarmanTool,
                        target: RecoveryTarget) async throws -> BarmanBackup {
        try await BarmanCatalogue.choose(backups, target: target, place: "Barman server \(s.server)") { b in
            b.merged(with: try await tool.showBackup(s, id: b.id))
        }
    }

    static func point(_ s: BarmanSettings, _ b: BarmanBackup) -> RestorePoint {
        RestorePoint(uri: "barman://\(s.server)/\(b.id)", name: b.id, format: "barman", sizeBytes: b.sizeBytes,
                     createdAt: b.endTime, payload: b)
    }
}
