import Foundation
import Synchronization

/// The WAL side of a basebackup drill: the archive listed and gap-checked, the backup's end found, the target
/// settled, and the segments delivered to replay (by a task that may run while the backup is extracted and replayed).
extension BaseBackupMethod {
    /// WAL being delivered to the session, and what the archive's listing told.
    struct WALDelivery: Sendable {
        let task: Task<Int64, any Error>
        let plan: WALFetchPlan
        let backupEnd: Date
        let segmentSize: UInt64
        let newestModifiedAt: Date?

        /// Waits until every file was delivered; rethrows a delivery failure (a gap found while replay ran).
        func finished(cancelledIsFine: Bool = false) async throws {
            if case .failure(let error) = await task.result {
                if cancelledIsFine, error is CancellationError { return }
                throw error
            }
        }
    }

    /// Lists the WAL archive, finds gaps, settles when the backup ended, checks an explicit target, and starts
    /// delivering what replay needs into the session's private WAL folder (the `wal_fetch` phase, closed when the
    /// last file is in place).
    func startWAL(_ walConfig: WALConfig, target: RecoveryTarget, label: BackupLabel, segmentSize: UInt64, includesWAL: Bool,
                  _ located: LocatedBackup, _ store: any BackupStore, _ session: any PhysicalSession, _ tasks: ChildTasks,
                  _ run: MethodRun) async throws -> WALDelivery {
        run.begin(.walFetch, detail: walConfig.location)
        do {
            guard let start = label.startSegment(segmentSize: segmentSize) else {
                throw DrillError(.backupCorrupt, "backup_label names an invalid start segment \(label.startSegmentName)")
            }
            let archive = WALArchive(objects: try await store.list(matching: nil), segmentSize: segmentSize)
            let plan = archive.plan(from: start)
            run.evidence(DrillReport.WAL.self) {
                $0.newestSegment = archive.newest?.segment.name
                $0.newestSegmentAt = archive.newest?.file.object.modifiedAt
                $0.firstMissingSegment = plan.firstMissing?.name
            }
            let end = try await backupEnd(label, segmentSize: segmentSize, located, archive, store, session, run)
            if let finding = plan.gapFinding {
                let needed = end.stopSegment.map { stop in plan.lastContiguous.map { $0.number < stop.number } ?? true } ?? false
                if needed && !includesWAL {
                    throw DrillError(.walGap, finding + " The backup itself cannot be made consistent: it ends in \(end.stopSegment!.name) and carries no WAL of its own.")
                }
                throw DrillError(.walGap, finding)
            }
            // An explicit target is checked before anything is fetched.
            if case .time = target { _ = try target.resolve(backupEnd: end.time, archiveEnd: nil, unit: run.randomUnit) }

            let options = WALDeliveryOptions(connections: walConfig.connections,
                                              windowBytes: target == .random ? nil : walConfig.windowBytes, segmentSize: segmentSize)
            let files = plan.histories + plan.segments
            // No live transfer line: delivery runs beside extraction and replay, whose progress the line shows.
            let task = tasks.start { () async throws -> Int64 in
                do {
                    let bytes = try await session.deliverWAL(files, from: store, options: options, progress: nil)
                    run.evidence(DrillReport.WAL.self) {
                        $0.bytesFetched += bytes
                        $0.segmentsFetched = plan.segments.count
                    }
                    run.end(.walFetch, ok: true, detail: "\(plan.segments.count) segments, \(bytes) bytes", bytes: bytes)
                    return bytes
                } catch let failure as WALDeliveryError {
                    run.evidence(DrillReport.WAL.self) { $0.firstMissingSegment = failure.walName }
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
            return WALDelivery(task: task, plan: plan, backupEnd: end.time, segmentSize: segmentSize,
                               newestModifiedAt: archive.newest?.file.object.modifiedAt)
        } catch {
            run.fail(.walFetch)
            throw error
        }
    }

    /// The time recovery stops at (nil: the end of the archive). A random point is chosen between the backup's end
    /// and the last commit of the delivered WAL (all of it delivered by then).
    func resolveTarget(_ target: RecoveryTarget, _ wal: WALDelivery, _ session: any PhysicalSession, _ run: MethodRun) async throws -> Date? {
        var archiveEnd: Date?
        if target == .random, let last = wal.plan.lastContiguous {
            // The last commit on the newest timeline replay reaches, read from the fetched segments.
            let first = wal.plan.segments.lazy.compactMap { WALSegment(name: $0.walName, segmentSize: wal.segmentSize) }
                .first { $0.timeline == last.timeline } ?? wal.plan.start
            archiveEnd = await session.lastCommit(from: first, to: last) ?? wal.newestModifiedAt
        }
        let targetTime = try target.resolve(backupEnd: wal.backupEnd, archiveEnd: archiveEnd, unit: run.randomUnit)
        run.evidence(DrillReport.WAL.self) { $0.targetTime = targetTime }
        return targetTime
    }

    /// When the base backup ended: the STOP TIME of the backup history file PostgreSQL archived (fetched into the WAL
    /// folder), else that file's time, else the backup's own modification time.
    private func backupEnd(_ label: BackupLabel, segmentSize: UInt64, _ located: LocatedBackup, _ archive: WALArchive,
                           _ store: any BackupStore, _ session: any PhysicalSession,
                           _ run: MethodRun) async throws -> (time: Date, stopSegment: WALSegment?) {
        var end = (time: located.object.modifiedAt, stopSegment: WALSegment?.none)
        var source = "backup_mtime"
        let name = label.historyFileName(segmentSize: segmentSize)
        if let file = archive.backupHistories[name] {
            let fetched = try await session.importWAL(file, from: store)
            run.evidence(DrillReport.WAL.self) { $0.bytesFetched += fetched }
            let path = (session.walDirectory as NSString).appendingPathComponent(name)
            let history = FileManager.default.contents(atPath: path).flatMap { try? BackupLabel.parse(String(decoding: $0, as: UTF8.self)) }
            end.stopSegment = history?.stopSegmentName.flatMap { WALSegment(name: $0, segmentSize: segmentSize) }
            if let stop = history?.stopTime {
                // STOP TIME has whole seconds: the backup ended before the next one began, and no later than this
                // drill's start when STOP TIME's second had begun by then (a drill started within a second of the
                // backup is not shown a backup from the future).
                end.time = min(stop.addingTimeInterval(1), max(stop, run.drillStart))
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

extension BackupLabel {
    /// The WAL segment size `START WAL LOCATION` implies (its LSN and its file name agree for one power of two), or
    /// nil when several sizes fit (a backup in the very first segments of a cluster).
    public var impliedSegmentSize: UInt64? {
        let fits = (20...30).map { UInt64(1) << UInt64($0) }.filter { size in
            WALSegment(lsn: startLSN, timeline: UInt32(startSegmentName.prefix(8), radix: 16) ?? 1, segmentSize: size).name == startSegmentName
        }
        return fits.count == 1 ? fits[0] : nil
    }
}
