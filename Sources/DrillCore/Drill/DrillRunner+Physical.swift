import Foundation

/// The physical flow: a `pg_basebackup` backup and its WAL archive, restored into a scratch cluster provisioned from the
/// backup itself: fetch → provision → extract → verify → wal_fetch → wal_replay → checks.
extension DrillRunner {
    /// Makes the backup folder available locally (the fetch phase, opened by `locate`).
    func stagePhysical(_ drill: DrillConfig, _ located: LocatedBackup, stagingDir: String, _ state: DrillState<C>)
        async throws -> StagedBackup {
        do {
            let observer = self.observer
            let staged = try await located.store.stage(located.object, into: stagingDir) { done, total in
                observer.transfer(done: done, total: total)
            }
            state.report.backup.sha256 = staged.sha256
            state.report.backup.sizeBytes = staged.sizeBytes
            try await verifySidecar(drill, located, digest: staged.sha256, state)
            state.report.restore.mode = "file"
            state.endPhase(.fetch, ok: true, observer: observer, detail: "\(located.object.name), \(staged.sizeBytes) bytes")
            return staged
        } catch {
            state.failPhase(.fetch, observer: observer)
            throw error
        }
    }

    /// Creates the private scratch cluster folders (nothing runs yet).
    func provisionPhysical(_ drill: DrillConfig, _ state: DrillState<C>) async throws -> any PhysicalSession {
        guard let restorer = deps.physicalRestorer else {
            throw DrillError(.unsupported, "this build of drill cannot restore basebackup backups")
        }
        guard drill.target == .embedded else {
            throw DrillError(.configuration, "a basebackup is restored into a private scratch cluster: target.kind must be embedded")
        }
        guard drill.wal != nil else {
            throw DrillError(.configuration, "a basebackup drill needs wal.location: the WAL archive to replay")
        }
        return try await phase(.provision, state, detail: "scratch cluster from the backup") {
            try await restorer.prepare(drill: drill, profile: drill.restore.profile)
        }
    }

    /// Extracts, verifies, fetches the WAL and replays it. `state.report.wal` is filled in as the steps go, so a failed
    /// drill reports how far it got.
    func restorePhysical(_ drill: DrillConfig, _ located: LocatedBackup, staged: StagedBackup, session: any PhysicalSession,
                         _ state: DrillState<C>) async throws {
        let walConfig = drill.wal!
        let target = RecoveryTarget(drill.recovery?.target ?? "latest") ?? .latest
        state.report.wal = DrillReport.WAL(location: walConfig.location, target: target.description)
        state.report.restore.jobs = 1

        let extracted = try await phase(.extract, state, detail: located.object.name) { try await session.extract(staged) }
        state.report.wal?.startSegment = extracted.label.startSegmentName

        if extracted.hasManifest {
            let tool = try await phase(.verify, state, detail: "pg_verifybackup") { try await session.verify() }
            state.report.wal?.verifiedWith = tool
        } else {
            state.report.findings.append("The base backup has no backup_manifest, so pg_verifybackup could not check it (take backups without --no-manifest).")
        }

        let targetTime = try await phase(.walFetch, state, detail: walConfig.location) {
            try await fetchWAL(walConfig, target: target, extracted, located, session, state)
        }

        let outcome = try await phase(.walReplay, state, detail: targetTime.map { "to \(RFC3339.format($0, fractional: true))" } ?? "to the end of the archive") {
            try await session.recover(target: targetTime)
        }
        state.report.wal?.replayedTo = outcome.replayLSN
        state.report.wal?.timeline = outcome.timeline
        state.report.restore.tool = "postgres (archive recovery)"
        state.report.restore.toolVersion = outcome.serverVersion
        if let commit = outcome.lastReplayedCommit {
            state.report.measured.recoveryPoint = commit
            state.report.measured.recoveryPointSource = "wal_replay"
        } else {
            // No transaction was replayed after the backup: the backup's end is the recovery point.
            state.report.measured.recoveryPoint = state.report.wal?.backupEndAt
            state.report.measured.recoveryPointSource = "backup_end"
        }
        if let targetTime { state.rpoReference = targetTime }
        state.restored = true
    }

    /// Lists the WAL archive, finds gaps, settles the target, and copies what replay needs into the session's private
    /// WAL folder. Returns the time recovery stops at (nil: the end of the archive).
    private func fetchWAL(_ walConfig: WALConfig, target: RecoveryTarget, _ extracted: ExtractedBackup, _ located: LocatedBackup,
                          _ session: any PhysicalSession, _ state: DrillState<C>) async throws -> Date? {
        let segmentSize = extracted.walSegmentSize
        guard let start = extracted.label.startSegment(segmentSize: segmentSize) else {
            throw DrillError(.backupCorrupt, "backup_label names an invalid start segment \(extracted.label.startSegmentName)")
        }
        let store = try deps.stores.store(location: walConfig.location, endpoint: walConfig.endpoint, region: walConfig.region)
        let archive = WALArchive(objects: try await store.list(matching: nil), segmentSize: segmentSize)
        let plan = archive.plan(from: start)
        state.report.wal?.newestSegment = archive.newest?.segment.name
        state.report.wal?.newestSegmentAt = archive.newest?.file.object.modifiedAt
        state.report.wal?.firstMissingSegment = plan.firstMissing?.name

        let end = try await backupEnd(extracted, located, archive, store, session, state)
        if let finding = plan.gapFinding {
            let needed = end.stopSegment.map { stop in plan.lastContiguous.map { $0.number < stop.number } ?? true } ?? false
            if needed && !extracted.includesWAL {
                throw DrillError(.walGap, finding + " The backup itself cannot be made consistent: it ends in \(end.stopSegment!.name) and carries no WAL of its own.")
            }
            throw DrillError(.walGap, finding)
        }
        // An explicit target is checked before anything is fetched.
        if case .time = target { _ = try target.resolve(backupEnd: end.time, archiveEnd: nil, unit: deps.randomUnit) }

        var bytes: Int64 = 0
        for file in plan.histories + plan.segments {
            try Task.checkCancellation()
            bytes += try await session.importWAL(file, from: store)
            observer.transfer(done: bytes, total: nil)
        }
        state.report.wal?.bytesFetched += bytes
        state.report.wal?.segmentsFetched = plan.segments.count

        var archiveEnd: Date?
        if target == .random, let last = plan.lastContiguous {
            // The last commit on the newest timeline replay reaches, read from the fetched segments.
            let first = plan.segments.lazy.compactMap { WALSegment(name: $0.walName, segmentSize: segmentSize) }
                .first { $0.timeline == last.timeline } ?? start
            archiveEnd = await session.lastCommit(from: first, to: last) ?? archive.newest?.file.object.modifiedAt
        }
        let targetTime = try target.resolve(backupEnd: end.time, archiveEnd: archiveEnd, unit: deps.randomUnit)
        state.report.wal?.targetTime = targetTime
        return targetTime
    }

    /// When the base backup ended: the STOP TIME of the backup history file PostgreSQL archived (fetched into the WAL
    /// folder), else that file's time, else the backup's own modification time.
    private func backupEnd(_ extracted: ExtractedBackup, _ located: LocatedBackup, _ archive: WALArchive, _ store: any BackupStore,
                           _ session: any PhysicalSession, _ state: DrillState<C>) async throws -> (time: Date, stopSegment: WALSegment?) {
        var end = (time: located.object.modifiedAt, stopSegment: WALSegment?.none)
        var source = "backup_mtime"
        let name = extracted.label.historyFileName(segmentSize: extracted.walSegmentSize)
        if let file = archive.backupHistories[name] {
            state.report.wal?.bytesFetched += try await session.importWAL(file, from: store)
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
        state.report.wal?.backupEndAt = end.time
        state.report.wal?.backupEndSource = source
        return end
    }

    /// Runs one timed phase; a thrown error closes it as failed.
    private func phase<T: Sendable>(_ name: PhaseName, _ state: DrillState<C>, detail: String,
                                    _ body: () async throws -> T) async throws -> T {
        try Task.checkCancellation()
        observer.phaseStarted(name, detail: detail)
        state.beginPhase(name)
        do {
            let value = try await body()
            state.endPhase(name, ok: true, observer: observer, detail: detail)
            return value
        } catch {
            state.failPhase(name, observer: observer)
            throw error
        }
    }
}
