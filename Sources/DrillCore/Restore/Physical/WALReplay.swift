import Foundation
import Synchronization

/// The WAL side every physical method shares (basebackup, pgbackrest, barman, barman-cloud): the archive's listing
/// checked for gaps from the backup's start, an explicit target checked against the backup's end, the WAL delivered
/// into the session's private folder by a task that runs while the server replays (the `wal_fetch` phase), the target
/// settled, and the replay (`wal_replay`). Fills the method's evidence block as it goes.
///
/// The guarantees: a gap in the listing fails before anything is replayed, naming the first missing segment; a file
/// that was listed but cannot be fetched while replay runs fails the drill naming it, and no segment after it is ever
/// handed to the server; replay that reached its target stops the fetching; at most `wal.window_mib` of fetched WAL
/// waits on disk ahead of replay; a `random` target gets all its WAL first (the point is chosen from it).
public struct WALReplay<Evidence: WALReplayEvidence>: Sendable {
    public let run: MethodRun
    public let session: any WALReplaySession
    public let target: RecoveryTarget
    let tasks: ChildTasks

    init(run: MethodRun, session: any WALReplaySession, target: RecoveryTarget, tasks: ChildTasks) {
        self.run = run
        self.session = session
        self.target = target
        self.tasks = tasks
    }

    /// Runs `body` with a `WALReplay` whose background work (WAL delivery, and whatever the method starts with
    /// `tasks`) is cancelled with the drill and, when `body` fails, cancelled and awaited, so nothing keeps writing
    /// into a scratch cluster being torn down.
    public static func scoped<T: Sendable>(_ run: MethodRun, _ session: any WALReplaySession, target: RecoveryTarget,
                                           _ body: (WALReplay<Evidence>) async throws -> T) async throws -> T {
        let tasks = ChildTasks()
        do {
            return try await withTaskCancellationHandler {
                try await body(WALReplay(run: run, session: session, target: target, tasks: tasks))
            } onCancel: {
                tasks.cancelAll()
            }
        } catch {
            tasks.cancelAll()
            await tasks.waitAll()
            throw error
        }
    }

    /// Opens the `wal_fetch` phase, lists the WAL with `list`, fails on a gap or an explicit target before the
    /// backup's end, and starts delivering what replay needs with `deliver` (which brings the files, in replay order,
    /// into the session's WAL folder and returns the bytes fetched). The phase is closed when the last file is in place.
    public func start(detail: String, tuning: WALTuning, list: () async throws -> WALListing,
                      deliver: @escaping @Sendable ([WALArchive.File], WALDeliveryOptions) async throws -> Int64) async throws -> WALDelivery {
        run.begin(.walFetch, detail: detail)
        do {
            let listing = try await list()
            let listedAt = run.context.now()
            let plan = try checkedPlan(listing)
            // An explicit target is checked before anything is fetched.
            if case .time = target { _ = try target.resolve(backupEnd: listing.backupEnd, archiveEnd: nil, unit: run.randomUnit) }
            // No window when every file is delivered before replay starts (a random target, or a session that
            // cannot be fed while it replays): a window would wait for a replay that has not begun.
            let options = WALDeliveryOptions(connections: tuning.connections,
                                              windowBytes: target == .random || !session.deliversDuringReplay ? nil : tuning.windowBytes,
                                              segmentSize: listing.segmentSize)
            let files = plan.histories + plan.segments
            let run = self.run
            // No live transfer line: delivery runs beside restore and replay, whose progress the line shows.
            let task = tasks.start { () async throws -> Int64 in
                do {
                    let bytes = try await deliver(files, options)
                    run.evidence(Evidence.self) {
                        $0.bytesFetched += bytes
                        $0.segmentsFetched = plan.segments.count
                    }
                    run.end(.walFetch, ok: true, detail: "\(plan.segments.count) segments, \(bytes) bytes", bytes: bytes)
                    return bytes
                } catch let failure as WALDeliveryError {
                    run.evidence(Evidence.self) { $0.firstMissingSegment = failure.walName }
                    run.fail(.walFetch)
                    throw DrillError(.walGap, "WAL archive gap: \(failure.walName) is listed in the archive but could not be fetched (\(failure.reason)); replay stopped before it: nothing after it was replayed.")
                } catch is CancellationError {
                    // Replay reached its target before every file was needed.
                    run.end(.walFetch, ok: true, detail: "stopped: replay no longer needed more WAL")
                    throw CancellationError()
                } catch {
                    run.fail(.walFetch)
                    throw error
                }
            }
            return WALDelivery(task: task, plan: plan, backupEnd: listing.backupEnd, segmentSize: listing.segmentSize,
                               newestModifiedAt: listing.archive.newest?.file.object.modifiedAt, listedAt: listedAt)
        } catch {
            run.fail(.walFetch)
            throw error
        }
    }

    /// Plans replay from the backup's start, records what the listing shows, and fails on a gap: nothing after it
    /// could ever be recovered (and when the gap comes before the backup's own end, the backup cannot even be made
    /// consistent).
    func checkedPlan(_ listing: WALListing) throws -> WALFetchPlan {
        let plan = listing.archive.plan(from: listing.start)
        let newest = listing.archive.newest
        run.evidence(Evidence.self) {
            $0.newestSegment = newest?.segment.name
            $0.newestSegmentAt = newest?.file.object.modifiedAt
            $0.firstMissingSegment = plan.firstMissing?.name
        }
        guard let finding = plan.gapFinding else { return plan }
        if let stop = listing.stop, !listing.carriesOwnWAL, plan.lastContiguous.map({ $0.number < stop.number }) ?? true {
            throw DrillError(.walGap, finding + " \(listing.backupName) cannot be made consistent: it needs the WAL up to \(stop.name) and carries none of its own.")
        }
        throw DrillError(.walGap, finding)
    }

    /// The `wal_replay` phase: settles the time recovery stops at (a `random` one chosen from the delivered WAL, all of
    /// it delivered first, as it is for a session that cannot be fed while it replays), starts the server, waits until
    /// it is promoted while the rest of the WAL arrives, and makes sure every file came (a file that could not be
    /// fetched is the drill's failure, even when replay ended without it). The recovery point is the last replayed
    /// commit, else `fallback` (no transaction was replayed after the backup). `tool` is the report's restore tool.
    public func replay(_ wal: WALDelivery, fallback: Date?, tool: String) async throws -> Restored {
        if !session.deliversDuringReplay || target == .random { try await wal.finished() }
        let targetTime = try await resolveTarget(wal)
        let observer = run.observer
        let outcome: RecoveryOutcome
        do {
            outcome = try await run.phase(.walReplay, detail: targetTime.map { "to \(RFC3339.format($0, fractional: true))" } ?? "to the end of the archive") {
                try await session.recover(target: targetTime) { done, total in observer.transfer(done: done, total: total) }
            }
        } catch {
            // A file that could not be fetched ended replay: that is the cause to report. Otherwise the server's own
            // failure is (the delivery cancelled here is not: it would turn a failed drill into an interrupted one).
            wal.task.cancel()
            try await wal.finished(cancelledIsFine: true)
            throw error
        }
        run.evidence(Evidence.self) {
            $0.replayedTo = outcome.replayLSN
            $0.timeline = outcome.timeline
        }
        // Replay reached its target: WAL past it is not needed (but a file that failed before is still a gap).
        if targetTime != nil { wal.task.cancel() }
        try await wal.finished(cancelledIsFine: targetTime != nil)
        run.restoreInfo {
            $0.tool = tool
            $0.toolVersion = outcome.serverVersion
        }
        if let commit = outcome.lastReplayedCommit {
            return Restored(database: session, recoveryPoint: commit, recoveryPointSource: "wal_replay", rpoReference: targetTime,
                            sourceReadAt: wal.listedAt)
        }
        return Restored(database: session, recoveryPoint: fallback, recoveryPointSource: "backup_end", rpoReference: targetTime,
                        sourceReadAt: wal.listedAt)
    }

    /// The time recovery stops at (nil: the end of the archive). A random point is chosen between the backup's end
    /// and the last commit of the delivered WAL.
    func resolveTarget(_ wal: WALDelivery) async throws -> Date? {
        var archiveEnd: Date?
        if target == .random, let last = wal.plan.lastContiguous {
            // The last commit on the newest timeline replay reaches, read from the fetched segments.
            let first = wal.plan.segments.lazy.compactMap { WALSegment(name: $0.walName, segmentSize: wal.segmentSize) }
                .first { $0.timeline == last.timeline } ?? wal.plan.start
            archiveEnd = await session.lastCommit(from: first, to: last) ?? wal.newestModifiedAt
        }
        let targetTime = try target.resolve(backupEnd: wal.backupEnd, archiveEnd: archiveEnd, unit: run.randomUnit)
        run.evidence(Evidence.self) { $0.targetTime = targetTime }
        return targetTime
    }

    /// Starts a task beside the method's main line, cancelled and awaited with the WAL delivery.
    public func background<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Task<T, any Error> {
        tasks.start(body)
    }
}

/// Tasks a method runs beside its main line (extraction, WAL delivery), cancelled and awaited together when the
/// method fails or is cancelled, so nothing keeps writing into a scratch cluster being torn down.
final class ChildTasks: Sendable {
    private let entries = Mutex<[(cancel: @Sendable () -> Void, wait: @Sendable () async -> Void)]>([])

    func start<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Task<T, any Error> {
        let task = Task { try await body() }
        entries.withLock { $0.append((cancel: { task.cancel() }, wait: { _ = await task.result })) }
        return task
    }

    func cancelAll() { for e in entries.withLock({ $0 }) { e.cancel() } }

    func waitAll() async { for e in entries.withLock({ $0 }) { await e.wait() } }
}
