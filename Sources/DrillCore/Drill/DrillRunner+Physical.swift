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

    /// Extracts, verifies, fetches the WAL and replays it.
    func restorePhysical(_ drill: DrillConfig, _ located: LocatedBackup, staged: StagedBackup, session: any PhysicalSession,
                         _ state: DrillState<C>) async throws {
        let walConfig = drill.wal!
        let target = RecoveryTarget(drill.recovery?.target ?? "latest") ?? .latest
        var wal = DrillReport.WAL(location: walConfig.location, target: target.description)
        state.report.wal = wal
        state.report.restore.jobs = 1

        let extracted = try await phase(.extract, state, detail: located.object.name) { try await session.extract(staged) }
        wal.startSegment = extracted.label.startSegmentName
        state.report.wal = wal

        if extracted.hasManifest {
            wal.verifiedWith = try await phase(.verify, state, detail: "pg_verifybackup") { try await session.verify() }
            state.report.wal = wal
        } else {
            state.report.findings.append("The base backup has no backup_manifest, so pg_verifybackup could not check it (take backups without --no-manifest).")
        }

        // The WAL: list the archive, find gaps, fetch what replay needs into the private folder.
        observer.phaseStarted(.walFetch, detail: walConfig.location)
        state.beginPhase(.walFetch)
        let targetTime: Date?
        do {
            let segmentSize = extracted.walSegmentSize
            guard let start = extracted.label.startSegment(segmentSize: segmentSize) else {
                throw DrillError(.backupCorrupt, "backup_label names an invalid start segment \(extracted.label.startSegmentName)")
            }
            let store = try deps.stores.store(location: walConfig.location, endpoint: walConfig.endpoint, region: walConfig.region)
            let archive = WALArchive(objects: try await store.list(matching: nil), segmentSize: segmentSize)
            let plan = archive.plan(from: start)
            wal.newestSegment = archive.newest?.segment.name
            wal.newestSegmentAt = archive.newest?.file.object.modifiedAt
            wal.firstMissingSegment = plan.firstMissing?.name

            // When the backup ended: the archived backup history file says, else the backup's own time.
            var backupEnd = located.object.modifiedAt
            wal.backupEndSource = "backup_mtime"
            var stopSegment: WALSegment?
            let historyName = extracted.label.historyFileName(segmentSize: segmentSize)
            if let h = archive.backupHistories[historyName] {
                wal.bytesFetched += try await session.importWAL(h, from: store)
                let path = (session.walDirectory as NSString).appendingPathComponent(historyName)
                let text = FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
                let history = try? BackupLabel.parse(text)
                stopSegment = history?.stopSegmentName.flatMap { WALSegment(name: $0, segmentSize: segmentSize) }
                if let stop = history?.stopTime {
                    // STOP TIME has whole seconds: the backup ended before the next one began.
                    backupEnd = stop.addingTimeInterval(1)
                    wal.backupEndSource = "backup_history_file"
                } else {
                    backupEnd = h.object.modifiedAt
                    wal.backupEndSource = "backup_history_mtime"
                }
            }
            wal.backupEndAt = backupEnd
            state.report.wal = wal

            if let finding = plan.gapFinding {
                let needed = stopSegment.map { stop in plan.lastContiguous.map { $0.number < stop.number } ?? true } ?? false
                if needed && !extracted.includesWAL {
                    throw DrillError(.walGap, finding + " The backup itself cannot be made consistent: it ends in \(stopSegment!.name) and carries no WAL of its own.")
                }
                throw DrillError(.walGap, finding)
            }
            // An explicit target is checked before anything is fetched.
            if case .time = target { _ = try target.resolve(backupEnd: backupEnd, archiveEnd: nil, unit: deps.randomUnit) }

            let observer = self.observer
            for file in plan.histories + plan.segments {
                try Task.checkCancellation()
                wal.bytesFetched += try await session.importWAL(file, from: store)
                observer.transfer(done: wal.bytesFetched, total: nil)
            }
            wal.segmentsFetched = plan.segments.count
            state.report.wal = wal

            var archiveEnd: Date?
            if target == .random, let last = plan.lastContiguous {
                let first = plan.segments.first { $0.walName.hasPrefix(hex8(UInt64(last.timeline))) }
                    .flatMap { WALSegment(name: $0.walName, segmentSize: segmentSize) } ?? start
                archiveEnd = await session.lastCommit(from: first, to: last) ?? wal.newestSegmentAt
            }
            targetTime = try target.resolve(backupEnd: backupEnd, archiveEnd: archiveEnd, unit: deps.randomUnit)
            wal.targetTime = targetTime
            state.report.wal = wal
            state.endPhase(.walFetch, ok: true, observer: observer,
                           detail: "\(wal.segmentsFetched) segment\(wal.segmentsFetched == 1 ? "" : "s"), \(wal.bytesFetched) bytes")
        } catch {
            state.report.wal = wal
            state.failPhase(.walFetch, observer: observer)
            throw error
        }

        let outcome = try await phase(.walReplay, state, detail: targetTime.map { "to \(RFC3339.format($0, fractional: true))" } ?? "to the end of the archive") {
            try await session.recover(target: targetTime)
        }
        wal.replayedTo = outcome.replayLSN
        wal.timeline = outcome.timeline
        state.report.wal = wal
        state.report.restore.tool = "postgres (archive recovery)"
        state.report.restore.toolVersion = outcome.serverVersion
        if let commit = outcome.lastReplayedCommit {
            state.report.measured.recoveryPoint = commit
            state.report.measured.recoveryPointSource = "wal_replay"
        } else {
            // No transaction was replayed after the backup: the backup's end is the recovery point.
            state.report.measured.recoveryPoint = wal.backupEndAt
            state.report.measured.recoveryPointSource = "backup_end"
        }
        if let targetTime { state.rpoReference = targetTime }
        state.restored = true
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
