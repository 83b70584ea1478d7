import DrillCore
import Foundation
import Synchronization

/// One object fetched over several connections at once: ranged GETs of one chunk each (`ChunkPlan`), at most
/// `connections` chunks in memory (`ChunkWindow`), written to a file descriptor in order by one writer thread that
/// computes the SHA-256 on the way. Each chunk is retried and resumed on its own (`ObjectFetcher` with a chunk's
/// `DownloadSink`); every chunk must come from the same version of the object (same size, same ETag). The first
/// failure ends the whole download: the other connections are stopped and nothing more is written.
struct RangedDownload: Sendable {
    var fetcher: ObjectFetcher
    var size: Int64
    var options: DownloadOptions

    /// Returns the bytes written and their SHA-256.
    func run(into fd: Int32, progress: TransferProgress?) async throws -> (bytes: Int64, sha256: String) {
        let plan = ChunkPlan(size: size, chunkBytes: options.chunkBytes)
        let window = ChunkWindow(plan: plan, slots: options.connections)
        let writer = Self.startWriter(window, fd: fd, size: size, displayName: fetcher.displayName, progress: progress)
        let shared = Shared()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<window.slots {
                    group.addTask {
                        do {
                            while let index = shared.take(below: plan.count) {
                                try await fetch(index, plan: plan, window: window, shared: shared)
                            }
                        } catch {
                            window.abort(error)  // wakes the connections waiting for the window, and the writer
                            throw error
                        }
                    }
                }
                try await group.waitForAll()
            }
        } catch {
            window.abort(error)
            _ = await writer.value
            // A connection stopped because another part failed: that part's failure is the one to report.
            throw window.firstFailure ?? error
        }
        let written = await writer.value
        if let failure = window.firstFailure { throw failure }
        return written
    }

    /// Fetches chunk `index` into its buffer once the window lets it start.
    private func fetch(_ index: Int, plan: ChunkPlan, window: ChunkWindow, shared: Shared) async throws {
        let buffer = try await window.acquire(index)
        let (start, length) = plan.range(index)
        let sink = DownloadSink(chunk: buffer, start: start, length: length, objectSize: size, entityTag: shared.tag.withLock { $0 })
        _ = try await fetcher.download(into: sink)
        if let seen = sink.entityTag {
            let expected = shared.tag.withLock { t in
                if t == nil { t = seen }
                return t!
            }
            if seen != expected {
                throw DrillError(.backupUnreadable, "\(URLRedaction.redactURLs(in: fetcher.displayName)) was replaced during the download (its ETag changed between two of its chunks)")
            }
        }
    }

    /// What the connections share: the next chunk to fetch and the object's entity tag, once known.
    private final class Shared: Sendable {
        let next = Mutex(0)
        let tag = Mutex<String?>(nil)

        func take(below count: Int) -> Int? {
            next.withLock { n in
                guard n < count else { return nil }
                n += 1
                return n - 1
            }
        }
    }

    /// The writer: a thread of its own (writes to a pipe block), hashing in order and reporting progress.
    private static func startWriter(_ window: ChunkWindow, fd: Int32, size: Int64, displayName: String,
                                    progress: TransferProgress?) -> Task<(bytes: Int64, sha256: String), Never> {
        Task {
            await withCheckedContinuation { (k: CheckedContinuation<(bytes: Int64, sha256: String), Never>) in
                let thread = Thread {
                    let hasher = SHA256Hasher()
                    var written: Int64 = 0
                    var reported: Int64 = 0
                    _ = window.drain { bytes in
                        var p = bytes.baseAddress
                        var left = bytes.count
                        while left > 0, let q = p {
                            let n = Foundation.write(fd, q, left)
                            if n < 0 {
                                if errno == EINTR { continue }
                                let reason = String(cString: strerror(errno))
                                window.abort(DrillLiveError.io("writing \(URLRedaction.redactURLs(in: displayName)) failed after \(written) bytes: \(reason)"))
                                return false
                            }
                            p = q + n
                            left -= n
                        }
                        hasher.update(bytes)
                        written += Int64(bytes.count)
                        if written - reported >= 1 << 20 || written == size {
                            reported = written
                            progress?(written, size)
                        }
                        return true
                    }
                    k.resume(returning: (written, hasher.finalizeHex()))
                }
                thread.name = "drill-chunk-writer"
                thread.start()
            }
        }
    }
}
