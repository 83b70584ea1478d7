import Foundation

/// The physical drill: a `pg_basebackup` backup and its WAL archive, restored into a scratch cluster provisioned from
/// the backup itself. Phases: fetch → provision → extract → verify → wal_fetch → wal_replay.
public struct BaseBackupMethod: DrillMethod {
    /// Extracts, verifies and recovers base backups; nil when this build cannot.
    public var restorer: (any PhysicalRestorer)?
    /// The installed PostgreSQL versions, to choose the backup's major; nil: the restorer's default.
    public var postgres: (any PostgresCatalog)?

    public init(restorer: (any PhysicalRestorer)?, postgres: (any PostgresCatalog)? = nil) {
        self.restorer = restorer
        self.postgres = postgres
    }

    public func locate(_ drill: DrillConfig, _ context: MethodContext) async throws -> RestorePoint {
        try await find(drill, context).restorePoint(archiveTimeZone: context.archiveTimeZone, withRecoveryPoint: false)
    }

    /// A restore now would reach the newest archived WAL segment.
    public func plan(_ drill: DrillConfig, _ context: MethodContext) async throws -> PlanPoint {
        let located = try await find(drill, context)
        let point = located.restorePoint(archiveTimeZone: context.archiveTimeZone, withRecoveryPoint: false)
        let locator = BackupLocator(stores: context.stores, archiveTimeZone: context.archiveTimeZone)
        if let newest = try await locator.newestArchivedWAL(drill) {
            return PlanPoint(point: point, newestRecoverable: newest.modifiedAt,
                             newestRecoverableSource: "wal_archive, newest segment \(newest.name)")
        }
        return PlanPoint(point: point, newestRecoverable: located.recoveryPoint, newestRecoverableSource: located.recoveryPointSource)
    }

    public func restorePoints(_ drill: DrillConfig, _ context: MethodContext) async throws -> [RestorePoint] {
        try await BackupLocator(stores: context.stores, archiveTimeZone: context.archiveTimeZone).candidates(drill)
            .filter(\.isDirectory).map {
                RestorePoint(uri: $0.uri, name: $0.name, format: "basebackup", sizeBytes: $0.sizeBytes, modifiedAt: $0.modifiedAt)
            }
    }

    private func find(_ drill: DrillConfig, _ context: MethodContext) async throws -> LocatedBackup {
        let located = try await BackupLocator(stores: context.stores, archiveTimeZone: context.archiveTimeZone, now: context.now())
            .locate(drill)
        guard located.format == .basebackup else {
            throw DrillError(.backupUnreadable,
                             "the newest backup under \(drill.backup.location), \(located.object.name), is a \(located.format.rawValue) dump, not a base backup")
        }
        return located
    }

    public func restore(_ drill: DrillConfig, _ run: MethodRun) async throws -> Restored {
        run.begin(.fetch, detail: drill.backup.location)
        let located = try await find(drill, run.context)
        // A physical restore's recovery point is measured after WAL replay.
        try await run.located(located.restorePoint(archiveTimeZone: run.context.archiveTimeZone, withRecoveryPoint: false),
                              staged: located.object.localPath == nil)
        for note in located.skipped { run.finding(note) }
        run.logger.info("latest backup", metadata: ["uri": "\(located.object.uri)", "format": "basebackup"])
        let fetched = try await stage(drill, located, run)
        let chain = try await restorer?.incrementalChain(fetched, drill: drill)
        let chosen = try await choosePostgres(drill, fetched, run)
        let staged = try await combine(chain, postgres: chosen, run) ?? fetched
        let session = try await provision(drill, chosen, run)
        return try await recover(drill, located, staged: staged, chain: chain, session: session, run)
    }

    /// Makes the backup folder available locally (the fetch phase, opened by `restore`).
    private func stage(_ drill: DrillConfig, _ located: LocatedBackup, _ run: MethodRun) async throws -> StagedBackup {
        do {
            let observer = run.observer
            let staged = try await located.store.stage(located.object, into: try run.stagingDirectory()) { done, total in
                observer.transfer(done: done, total: total)
            }
            if staged.isTemporary { run.removeAtEnd(staged.path) }
            run.backup {
                $0.sha256 = staged.sha256
                $0.sizeBytes = staged.sizeBytes
            }
            try await SidecarCheck.verify(drill.backup, located, digest: staged.sha256, run)
            run.restoreInfo { $0.mode = "file" }
            run.end(.fetch, ok: true, detail: "\(located.object.name), \(staged.sizeBytes) bytes")
            return staged
        } catch {
            run.fail(.fetch)
            throw error
        }
    }

    /// The PostgreSQL of the backup's major (`PG_VERSION`), chosen before anything is provisioned.
    private func choosePostgres(_ drill: DrillConfig, _ staged: StagedBackup, _ run: MethodRun) async throws -> PostgresInstallation? {
        guard let restorer, postgres != nil else { return nil }
        let need = await restorer.backupVersion(staged).map { VersionNeed(version: $0, rule: .sameMajor, source: "PG_VERSION") }
        return try await run.choosePostgres(need, catalog: postgres, drill: drill, needsServer: true)
    }

    /// Creates the private scratch cluster folders (nothing runs yet).
    private func provision(_ drill: DrillConfig, _ postgres: PostgresInstallation?, _ run: MethodRun) async throws -> any PhysicalSession {
        guard let restorer else {
            throw DrillError(.unsupported, "this build of drill cannot restore basebackup backups")
        }
        guard drill.target == .embedded else {
            throw DrillError(.configuration, "a basebackup is restored into a private scratch cluster: target.kind must be embedded")
        }
        guard drill.wal != nil else {
            throw DrillError(.configuration, "a basebackup drill needs wal.location: the WAL archive to replay")
        }
        return try await run.phase(.provision, detail: "scratch cluster from the backup") {
            run.adopt(try await restorer.prepare(drill: drill, profile: drill.restore.profile, postgres: postgres))
        }
    }

    /// Extracts, verifies, fetches the WAL and replays it. The `wal` evidence is filled in as the steps go, so a
    /// failed drill reports how far it got.
    private func recover(_ drill: DrillConfig, _ located: LocatedBackup, staged: StagedBackup, chain: IncrementalChain?,
                         session: any PhysicalSession, _ run: MethodRun) async throws -> Restored {
        let walConfig = drill.wal!
        let target = RecoveryTarget(drill.recovery?.target ?? "latest") ?? .latest
        var evidence = DrillReport.WAL(location: URLRedaction.redactURLs(in: walConfig.location), target: target.description)
        evidence.incrementalChain = chain?.members.map(\.name)
        run.evidence(evidence)
        run.restoreInfo { $0.jobs = 1 }

        let extracted = try await run.phase(.extract, detail: located.object.name) { try await session.extract(staged) }
        run.evidence(DrillReport.WAL.self) { $0.startSegment = extracted.label.startSegmentName }

        if extracted.hasManifest {
            let tool = try await run.phase(.verify, detail: "pg_verifybackup") { try await session.verify() }
            run.evidence(DrillReport.WAL.self) { $0.verifiedWith = tool }
        } else {
            run.finding("The base backup has no backup_manifest, so pg_verifybackup could not check it (take backups without --no-manifest).")
        }

        let targetTime = try await run.phase(.walFetch, detail: walConfig.location) {
            try await fetchWAL(walConfig, target: target, extracted, located, session, run)
        }

        let outcome = try await run.phase(.walReplay, detail: targetTime.map { "to \(RFC3339.format($0, fractional: true))" } ?? "to the end of the archive") {
            try await session.recover(target: targetTime)
        }
        run.evidence(DrillReport.WAL.self) {
            $0.replayedTo = outcome.replayLSN
            $0.timeline = outcome.timeline
        }
        run.restoreInfo {
            $0.tool = "postgres (archive recovery)"
            $0.toolVersion = outcome.serverVersion
        }
        if let commit = outcome.lastReplayedCommit {
            return Restored(database: session, recoveryPoint: commit, recoveryPointSource: "wal_replay", rpoReference: targetTime)
        }
        // No transaction was replayed after the backup: the backup's end is the recovery point.
        return Restored(database: session, recoveryPoint: run.currentEvidence(DrillReport.WAL.self)?.backupEndAt,
                        recoveryPointSource: "backup_end", rpoReference: targetTime)
    }

    /// Lists the WAL archive, finds gaps, settles the target, and copies what replay needs into the session's private
    /// WAL folder. Returns the time recovery stops at (nil: the end of the archive).
    private func fetchWAL(_ walConfig: WALConfig, target: RecoveryTarget, _ extracted: ExtractedBackup, _ located: LocatedBackup,
                          _ session: any PhysicalSession, _ run: MethodRun) async throws -> Date? {
        let segmentSize = extracted.walSegmentSize
        guard let start = extracted.label.startSegment(segmentSize: segmentSize) else {
            throw DrillError(.backupCorrupt, "backup_label names an invalid start segment \(extracted.label.startSegmentName)")
        }
        let store = try run.context.stores.store(location: walConfig.location, endpoint: walConfig.endpoint, region: walConfig.region)
        let archive = WALArchive(objects: try await store.list(matching: nil), segmentSize: segmentSize)
        let plan = archive.plan(from: start)
        run.evidence(DrillReport.WAL.self) {
            $0.newestSegment = archive.newest?.segment.name
            $0.newestSegmentAt = archive.newest?.file.object.modifiedAt
            $0.firstMissingSegment = plan.firstMissing?.name
        }

        let end = try await backupEnd(extracted, located, archive, store, session, run)
        if let finding = plan.gapFinding {
            let needed = end.stopSegment.map { stop in plan.lastContiguous.map { $0.number < stop.number } ?? true } ?? false
            if needed && !extracted.includesWAL {
                throw DrillError(.walGap, finding + " The backup itself cannot be made consistent: it ends in \(end.stopSegment!.name) and carries no WAL of its own.")
            }
            throw DrillError(.walGap, finding)
        }
        // An explicit target is checked before anything is fetched.
        if case .time = target { _ = try target.resolve(backupEnd: end.time, archiveEnd: nil, unit: run.randomUnit) }

        var bytes: Int64 = 0
        for file in plan.histories + plan.segments {
            try Task.checkCancellation()
            bytes += try await session.importWAL(file, from: store)
            run.observer.transfer(done: bytes, total: nil)
        }
        run.evidence(DrillReport.WAL.self) { [bytes] in
            $0.bytesFetched += bytes
            $0.segmentsFetched = plan.segments.count
        }

        var archiveEnd: Date?
        if target == .random, let last = plan.lastContiguous {
            // The last commit on the newest timeline replay reaches, read from the fetched segments.
            let first = plan.segments.lazy.compactMap { WALSegment(name: $0.walName, segmentSize: segmentSize) }
                .first { $0.timeline == last.timeline } ?? start
            archiveEnd = await session.lastCommit(from: first, to: last) ?? archive.newest?.file.object.modifiedAt
        }
        let targetTime = try target.resolve(backupEnd: end.time, archiveEnd: archiveEnd, unit: run.randomUnit)
        run.evidence(DrillReport.WAL.self) { $0.targetTime = targetTime }
        return targetTime
    }

    /// When the base backup ended: the STOP TIME of the backup history file PostgreSQL archived (fetched into the WAL
    /// folder), else that file's time, else the backup's own modification time.
    private func backupEnd(_ extracted: ExtractedBackup, _ located: LocatedBackup, _ archive: WALArchive, _ store: any BackupStore,
                           _ session: any PhysicalSession, _ run: MethodRun) async throws -> (time: Date, stopSegment: WALSegment?) {
        var end = (time: located.object.modifiedAt, stopSegment: WALSegment?.none)
        var source = "backup_mtime"
        let name = extracted.label.historyFileName(segmentSize: extracted.walSegmentSize)
        if let file = archive.backupHistories[name] {
            let fetched = try await session.importWAL(file, from: store)
            run.evidence(DrillReport.WAL.self) { $0.bytesFetched += fetched }
            let path = (session.walDirectory as NSString).appendingPathComponent(name)
            let history = FileManager.default.contents(atPath: path).flatMap { try? BackupLabel.parse(String(decoding: $0, as: UTF8.self)) }
            end.stopSegment = history?.stopSegmentName.flatMap { WALSegment(name: $0, segmentSize: extracted.walSegmentSize) }
            if let stop = history?.stopTime {
                // STOP TIME has whole seconds: the backup ended before the next one began.
                end.time = stop.addingTimeInterval(1)
                source = "backup_history_file"
            } else {
                end.time = file.object.modifiedAt
                source = "backup_history_mtime"
            }
        }
        let result = end
        run.evidence(DrillReport.WAL.self) {
            $0.backupEndAt = result.time
            $0.backupEndSource = source
        }
        return end
    }
}

extension DrillReport.WAL: MethodEvidence {
    public static var reportKey: WritableKeyPath<DrillReport, DrillReport.WAL?> { \.wal }
}
