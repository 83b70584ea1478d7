import Foundation

/// The WAL side of a Barman drill, shared by `barman` and `barman-cloud`: the archive planned from the backup's start
/// segment and checked for gaps, the recovery target settled against the backup's end, the WAL fetched into the
/// scratch's private folder, and the replay. Fills the report's `wal` block as it goes.
struct BarmanRecovery {
    let run: MethodRun
    let scratch: any BarmanScratch
    let backup: BarmanBackup
    let target: RecoveryTarget

    /// The backup's start segment (`begin_wal`), for a WAL archive of `segmentSize`-byte segments.
    static func startSegment(_ backup: BarmanBackup, segmentSize: UInt64) throws -> WALSegment {
        guard let name = backup.beginWAL, let seg = WALSegment(name: name, segmentSize: segmentSize) else {
            throw DrillError(.backupCorrupt, "the catalogue gives backup \(backup.id) no valid begin_wal (\(backup.beginWAL ?? "none"))")
        }
        return seg
    }

    /// When the backup ended: recovery cannot stop earlier.
    static func backupEnd(_ backup: BarmanBackup) throws -> Date {
        guard let end = backup.endTime else {
            throw DrillError(.backupCorrupt, "the catalogue gives backup \(backup.id) no end time")
        }
        return end
    }

    /// Plans replay over `archive`, fails on a gap (naming the first missing segment), checks an explicit target,
    /// fetches every planned file with `fetch` (returning its bytes), and settles the time recovery stops at (nil:
    /// the end of the archive). The caller runs it inside its `wal_fetch` phase.
    func fetch(_ archive: WALArchive, segmentSize: UInt64, fetch: (WALArchive.File) async throws -> Int64) async throws -> Date? {
        let start = try Self.startSegment(backup, segmentSize: segmentSize)
        let end = try Self.backupEnd(backup)
        let plan = archive.plan(from: start)
        run.evidence(DrillReport.WAL.self) {
            $0.startSegment = start.name
            $0.backupEndAt = end
            $0.backupEndSource = backup.timeSource.map { "barman_\($0)" } ?? "barman"
            $0.newestSegment = archive.newest?.segment.name
            $0.newestSegmentAt = archive.newest?.file.object.modifiedAt
            $0.firstMissingSegment = plan.firstMissing?.name
        }
        if let finding = plan.gapFinding {
            let stop = backup.endWAL.flatMap { WALSegment(name: $0, segmentSize: segmentSize) }
            let needed = stop.map { s in plan.lastContiguous.map { $0.number < s.number } ?? true } ?? false
            if needed {
                throw DrillError(.walGap, finding + " Backup \(backup.id) cannot be made consistent: it needs the WAL up to \(stop!.name).")
            }
            throw DrillError(.walGap, finding)
        }
        if case .time = target { _ = try target.resolve(backupEnd: end, archiveEnd: nil, unit: run.randomUnit) }

        var bytes: Int64 = 0
        for file in plan.histories + plan.segments {
            try Task.checkCancellation()
            bytes += try await fetch(file)
            run.observer.transfer(done: bytes, total: nil)
        }
        run.evidence(DrillReport.WAL.self) { [bytes] in
            $0.bytesFetched += bytes
            $0.segmentsFetched = plan.segments.count
        }
        var archiveEnd: Date?
        if target == .random, let last = plan.lastContiguous {
            let first = plan.segments.lazy.compactMap { WALSegment(name: $0.walName, segmentSize: segmentSize) }
                .first { $0.timeline == last.timeline } ?? start
            archiveEnd = await scratch.lastCommit(from: first, to: last) ?? archive.newest?.file.object.modifiedAt
        }
        let targetTime = try target.resolve(backupEnd: end, archiveEnd: archiveEnd, unit: run.randomUnit)
        run.evidence(DrillReport.WAL.self) { $0.targetTime = targetTime }
        return targetTime
    }

    /// The `wal_replay` phase: starts the restored cluster and waits until it is promoted. The recovery point is the
    /// last replayed commit, or the backup's end when nothing was replayed after it.
    func replay(to targetTime: Date?) async throws -> Restored {
        let detail = targetTime.map { "to \(RFC3339.format($0, fractional: true))" } ?? "to the end of the archive"
        let outcome = try await run.phase(.walReplay, detail: detail) { try await scratch.recover(target: targetTime) }
        run.evidence(DrillReport.WAL.self) {
            $0.replayedTo = outcome.replayLSN
            $0.timeline = outcome.timeline
        }
        run.restoreInfo {
            $0.tool = "postgres (archive recovery)"
            $0.toolVersion = outcome.serverVersion
        }
        if let commit = outcome.lastReplayedCommit {
            return Restored(database: scratch, recoveryPoint: commit, recoveryPointSource: "wal_replay", rpoReference: targetTime)
        }
        return Restored(database: scratch, recoveryPoint: backup.endTime, recoveryPointSource: "backup_end", rpoReference: targetTime)
    }
}
