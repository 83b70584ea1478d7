import DrillCore
import Foundation
import Synchronization

/// Fetches the WAL a physical restore replays into drill's private WAL folder while PostgreSQL replays it: several
/// files at once (`connections`), in replay order, never more than `windowBytes` ahead of what replay has taken.
///
/// It talks to `WALWaitScript` (the server's `restore_command`) through marker files in the folder: `.announced`
/// lists every file that will come, a file appears under its own name only once complete (renamed into place),
/// `.complete` says everything came, `.failed` names the file that never will (replay then gets nothing more, so no
/// segment after it is replayed), and the script leaves `.served/<name>` for each file it handed over. Served
/// segments are deleted once a later one was served, which keeps the disk used bounded by the window.
public final class WALPrefetcher: Sendable {
    /// Brings one file into `incoming` (a private folder on the WAL folder's file system) under its WAL name and returns
    /// the bytes fetched from the store.
    public typealias Fetch = @Sendable (_ file: WALArchive.File, _ incoming: String) async throws -> Int64

    public let directory: String
    public let files: [WALArchive.File]
    public let options: WALDeliveryOptions
    private let segmentSize: UInt64
    private let handOver: @Sendable (String) throws -> Void
    private let fetch: Fetch
    private let state = Mutex(State())

    struct State {
        var inFlight = 0
        /// Disk bytes of files fetched or being fetched and not yet served.
        var delivered: [Int: Int64] = [:]
        var fetchedBytes: Int64 = 0
        var waitingForWindow = false
        var peakAheadBytes: Int64 = 0
        var failed = false
    }

    /// `handOver` gives a file or folder to the server's account (chown), so the restore_command can read it.
    public init(directory: String, files: [WALArchive.File], options: WALDeliveryOptions, segmentSize: UInt64,
                handOver: @escaping @Sendable (String) throws -> Void, fetch: @escaping Fetch) {
        self.directory = directory
        self.files = files
        self.options = options
        self.segmentSize = segmentSize
        self.handOver = handOver
        self.fetch = fetch
    }

    /// Whether the prefetcher is waiting for replay to take files before it fetches more (the window is full).
    public var isWaitingForWindow: Bool { state.withLock { $0.waitingForWindow } }
    /// The most bytes that waited ahead of replay at once.
    public var peakAheadBytes: Int64 { state.withLock { $0.peakAheadBytes } }
    /// The WAL names fetched so far, in plan order.
    public var fetchedNames: [String] { state.withLock { s in s.delivered.keys.sorted().map { files[$0].walName } } }

    var servedDirectory: String { (directory as NSString).appendingPathComponent(".served") }
    var incomingDirectory: String { (directory as NSString).appendingPathComponent(".incoming") }

    /// Announces the files, then fetches them all; returns the bytes fetched. On a failure `.failed` is written first,
    /// so replay stops at the missing file, and a `WALDeliveryError` names it.
    public func run(progress: TransferProgress?) async throws -> Int64 {
        let fm = FileManager.default
        for dir in [servedDirectory, incomingDirectory] where !fm.fileExists(atPath: dir) {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        }
        try handOver(servedDirectory)
        try marker(".announced", files.map(\.walName).joined(separator: "\n") + "\n")
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                var next = 0
                while next < files.count {
                    try Task.checkCancellation()
                    if state.withLock({ $0.failed }) { break }
                    let size = diskSize(files[next])
                    let start: Bool = state.withLock { s in
                        let ahead = s.delivered.values.reduce(0, +)
                        guard s.inFlight < options.connections else { return false }
                        guard let window = options.windowBytes, ahead > 0, ahead + size > window else {
                            s.waitingForWindow = false
                            s.inFlight += 1
                            s.delivered[next] = size
                            s.peakAheadBytes = max(s.peakAheadBytes, ahead + size)
                            return true
                        }
                        s.waitingForWindow = s.inFlight == 0
                        return false
                    }
                    if start {
                        let index = next
                        group.addTask { try await self.fetchOne(index, progress: progress) }
                        next += 1
                    } else if state.withLock({ $0.inFlight >= options.connections }) {
                        try await group.next()
                    } else {
                        try await Task.sleep(for: .milliseconds(20))
                        collectServed()
                    }
                }
                try await group.waitForAll()
            }
        } catch {
            if !(error is WALDeliveryError) { try? marker(".failed", "\n") }
            throw error
        }
        try marker(".complete", "\n")
        return state.withLock { $0.fetchedBytes }
    }

    private func fetchOne(_ index: Int, progress: TransferProgress?) async throws {
        let file = files[index]
        do {
            let bytes = try await fetch(file, incomingDirectory)
            let fetched = (incomingDirectory as NSString).appendingPathComponent(file.walName)
            chmod(fetched, 0o600)
            try handOver(fetched)
            guard rename(fetched, (directory as NSString).appendingPathComponent(file.walName)) == 0 else {
                throw DrillError(.restoreFailed, "cannot move \(file.walName) into the WAL folder: \(String(cString: strerror(errno)))")
            }
            let total = state.withLock { s in
                s.inFlight -= 1
                s.fetchedBytes += bytes
                return s.fetchedBytes
            }
            progress?(total, nil)
        } catch {
            state.withLock {
                $0.inFlight -= 1
                $0.failed = true
            }
            if error is CancellationError { throw error }
            try? marker(".failed", file.walName + "\n")
            let reason = (error as? DrillError)?.message ?? "\(error)"
            throw WALDeliveryError(walName: file.walName, reason: reason)
        }
    }

    /// Forgets (and deletes) what the restore_command has served: every served segment but the newest one served.
    private func collectServed() {
        let fm = FileManager.default
        guard let served = try? fm.contentsOfDirectory(atPath: servedDirectory), !served.isEmpty else { return }
        let names = Set(served)
        let newest = served.filter(WALSegment.looksLikeName).max()
        state.withLock { s in
            for (i, _) in s.delivered where names.contains(files[i].walName) { s.delivered[i] = 0 }
        }
        for name in served where WALSegment.looksLikeName(name) && name != newest {
            let path = (directory as NSString).appendingPathComponent(name)
            if fm.fileExists(atPath: path) { try? fm.removeItem(atPath: path) }
        }
    }

    /// Bytes a file takes in the folder: a segment, decompressed, is a whole segment.
    private func diskSize(_ file: WALArchive.File) -> Int64 {
        WALSegment.looksLikeName(file.walName) ? Int64(segmentSize) : (file.object.sizeBytes ?? 0)
    }

    private func marker(_ name: String, _ text: String) throws {
        let path = (directory as NSString).appendingPathComponent(name)
        try AtomicFile.write(Data(text.utf8), to: path, mode: 0o600)
        try handOver(path)
    }
}
