import DrillCore
@testable import DrillLive
import DrillTesting
import Foundation
import Testing

/// Ranged downloads over several connections (`backup.connections`), through the fault proxy in front of moto
/// (signatures checked): the bytes reach the reader in order with the right digest, a dropped chunk resumes on its
/// own, and a refused chunk ends the whole download with a clear error.
extension S3FaultTests {
    static let rangedSize = 9 << 20 + 321
    static let ranged = DownloadOptions(connections: 4, chunkBytes: 1 << 20)

    /// Streams the object through `options` into a pipe; returns what the reader got and the outcome.
    func streamRanged(_ s3: S3Store, options: DownloadOptions = S3FaultTests.ranged, progress: ProgressLog? = nil)
        async throws -> (Data, Result<StreamReceipt, any Error>) {
        let object = try #require(try await s3.list(matching: nil).first)
        let pipe = Pipe()
        let drain = TempFiles.Drain(pipe.fileHandleForReading)
        let result: Result<StreamReceipt, any Error>
        do {
            result = .success(try await s3.stream(object, to: pipe.fileHandleForWriting, options: options, progress: progress?.record))
        } catch {
            result = .failure(error)
        }
        try pipe.fileHandleForWriting.close()
        return (drain.value(), result)
    }

    func gets(_ proxy: FaultProxy) async throws -> [FaultProxy.Seen] {
        try await proxy.log().filter { $0.method == "GET" && $0.path.contains("db.dump") }
    }

    @Test("ranged: 4 connections, 1 MiB chunks; every byte once, in order, and the digest of the whole")
    func rangedInOrder() async throws {
        let (moto, bucket, data) = try await fixture("ranged", size: Self.rangedSize)
        let proxy = try await FaultProxy(upstreamPort: URL(string: moto.endpoint)!.port!, match: "db.dump", faults: [])
        defer { proxy.stop() }
        let progress = ProgressLog()
        let (received, result) = try await streamRanged(try store(moto, bucket, via: proxy), progress: progress)
        let receipt = try result.get()
        #expect(received == data)
        #expect(receipt.bytes == Int64(data.count))
        #expect(receipt.sha256 == SHA256Hasher.hex(of: data))
        #expect(progress.last?.done == Int64(data.count))
        let plan = ChunkPlan(size: Int64(data.count), chunkBytes: Self.ranged.chunkBytes)
        #expect(plan.count == 10)
        let ranges = try await gets(proxy).map(\.range)
        #expect(ranges.count == plan.count)
        #expect(Set(ranges.compactMap { $0 }) == Set((0..<plan.count).map { plan.rangeHeader($0) }))
    }

    @Test("ranged: a connection cut mid-chunk and one dropped resume that chunk alone; the digest is right")
    func rangedResumesAChunk() async throws {
        let (moto, bucket, data) = try await fixture("rangedcut", size: Self.rangedSize)
        let proxy = try await FaultProxy(upstreamPort: URL(string: moto.endpoint)!.port!, match: "db.dump",
                                         faults: ["@\(3 << 20):cut:300000", "@\(6 << 20):drop"])
        defer { proxy.stop() }
        let (received, result) = try await streamRanged(try store(moto, bucket, via: proxy))
        let receipt = try result.get()
        #expect(received == data)
        #expect(receipt.sha256 == SHA256Hasher.hex(of: data))
        let seen = try await gets(proxy)
        #expect(seen.filter { $0.fault == "cut:300000" }.map(\.range) == ["bytes=\(3 << 20)-\(4 << 20 - 1)"])
        #expect(seen.filter { $0.fault == "drop" }.map(\.range) == ["bytes=\(6 << 20)-\(7 << 20 - 1)"])
        // The cut chunk asks for the rest of itself (from at most 300,000 bytes in), the dropped one again from its start.
        let resumed = seen.compactMap(\.range).filter { isInside($0, chunkAt: 3 << 20, within: 300_000) }
        #expect(resumed.count == 1)
        #expect(resumed.allSatisfy { $0.hasSuffix("-\(4 << 20 - 1)") }, "\(resumed)")
        #expect(seen.filter { $0.range == "bytes=\(6 << 20)-\(7 << 20 - 1)" }.count == 2)
        #expect(seen.count == 12)
    }

    /// Whether `range` starts inside the chunk at `start`, past its first byte and at most `within` bytes in.
    func isInside(_ range: String, chunkAt start: Int, within: Int) -> Bool {
        guard let from = Int(range.dropFirst("bytes=".count).prefix { $0.isNumber }) else { return false }
        return from > start && from <= start + within
    }

    @Test("ranged: a 403 on one chunk ends the download with the store's error; nothing past it is written")
    func rangedChunkDenied() async throws {
        let (moto, bucket, _) = try await fixture("ranged403", size: Self.rangedSize)
        let proxy = try await FaultProxy(upstreamPort: URL(string: moto.endpoint)!.port!, match: "db.dump",
                                         faults: ["@\(5 << 20):403"])
        defer { proxy.stop() }
        let (received, result) = try await streamRanged(try store(moto, bucket, via: proxy))
        #expect(throws: DrillError.self) { try result.get() }
        guard case .failure(let error as DrillError) = result else { return }
        #expect(error.code == .storeDenied)
        #expect(error.message.contains("s3://\(bucket)/backups/db.dump"), "\(error.message)")
        #expect(error.message.contains("403"))
        #expect(!error.message.contains(moto.secretAccessKey))
        // The writer stops at the refused chunk: chunks after it never reach the reader.
        #expect(received.count <= 5 << 20)
    }

    @Test("ranged: a chunk answered 500 on every try fails after the configured attempts, naming the object")
    func rangedChunkUnavailable() async throws {
        let (moto, bucket, _) = try await fixture("ranged500", size: Self.rangedSize)
        let proxy = try await FaultProxy(upstreamPort: URL(string: moto.endpoint)!.port!, match: "db.dump",
                                         faults: Array(repeating: "@\(2 << 20):500", count: 5))
        defer { proxy.stop() }
        let (received, result) = try await streamRanged(try store(moto, bucket, via: proxy, attempts: 3))
        guard case .failure(let error as DrillError) = result else {
            Issue.record("expected a DrillError, got \(result)")
            return
        }
        #expect(error.code == .storeUnavailable)
        #expect(error.message.contains("s3://\(bucket)/backups/db.dump") && error.message.contains("after 3 tries"), "\(error.message)")
        #expect(error.message.contains("HTTP 500"))
        #expect(received.count <= 2 << 20)
        #expect(try await gets(proxy).filter { $0.range == "bytes=\(2 << 20)-\(3 << 20 - 1)" }.count == 3)
    }

    @Test("ranged: a file no larger than one chunk, or one connection, is fetched with a single GET")
    func rangedNotWorthIt() async throws {
        let (moto, bucket, data) = try await fixture("rangedsmall")
        let proxy = try await FaultProxy(upstreamPort: URL(string: moto.endpoint)!.port!, match: "db.dump", faults: [])
        defer { proxy.stop() }
        let s3 = try store(moto, bucket, via: proxy)
        for options in [DownloadOptions(connections: 4, chunkBytes: Int64(data.count)), DownloadOptions.single] {
            let (received, result) = try await streamRanged(s3, options: options)
            #expect(try result.get().sha256 == SHA256Hasher.hex(of: data))
            #expect(received == data)
        }
        #expect(try await gets(proxy).map(\.range) == [nil, nil])
    }

    @Test("the window puts chunks filled out of order back in order and never holds more than its slots")
    func windowReassembles() async throws {
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<(300_000 + 77)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let plan = ChunkPlan(size: Int64(data.count), chunkBytes: 16_384)
        let window = ChunkWindow(plan: plan, slots: 3)
        let out = OutputLog()
        let writer = Thread { out.finish(window.drain { out.append($0) }) }
        writer.start()
        // Three connections; within the window the later chunks are filled first, each in pieces of random sizes.
        let next = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    while let index = next.take(below: plan.count) {
                        let buffer = try await window.acquire(index)
                        if index % 3 == 0 { try await Task.sleep(for: .milliseconds(5)) }
                        let (start, length) = plan.range(index)
                        var at = Int(start)
                        let end = Int(start + length)
                        while at < end {
                            let n = min(end - at, Int.random(in: 1...5000))
                            let ok = data[at..<(at + n)].withUnsafeBytes { buffer.append($0) }
                            #expect(ok)
                            at += n
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(await out.result() == true)
        #expect(out.bytes == data)
        #expect(window.peakSlots <= 3)
    }

    @Test("a failure stops the window's writer and wakes the connections waiting for a slot")
    func windowAbort() async throws {
        let plan = ChunkPlan(size: 100_000, chunkBytes: 10_000)
        let window = ChunkWindow(plan: plan, slots: 2)
        let out = OutputLog()
        Thread { out.finish(window.drain { out.append($0) }) }.start()
        _ = try await window.acquire(0)
        _ = try await window.acquire(1)
        let waiting = Task { try await window.acquire(2) }  // outside the window until chunk 0 is written
        window.abort(DrillError(.storeDenied, "refused"))
        await #expect(throws: DrillError.self) { try await waiting.value }
        #expect(await out.result() == false)
        #expect(out.bytes.isEmpty)
        await #expect(throws: DrillError.self) { try await window.acquire(3) }
    }
}

/// What a window's writer wrote, collected on its thread.
final class OutputLog: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var outcome: Bool?
    private var waiters: [CheckedContinuation<Bool, Never>] = []

    var bytes: Data { lock.withLock { data } }

    func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        lock.withLock { data.append(contentsOf: bytes) }
        return true
    }

    func finish(_ ok: Bool) {
        let woken = lock.withLock { () -> [CheckedContinuation<Bool, Never>] in
            outcome = ok
            defer { waiters = [] }
            return waiters
        }
        for w in woken { w.resume(returning: ok) }
    }

    func result() async -> Bool {
        await withCheckedContinuation { k in
            let done: Bool? = lock.withLock {
                if outcome == nil { waiters.append(k) }
                return outcome
            }
            if let done { k.resume(returning: done) }
        }
    }
}

/// The next index to take, shared by test connections.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0

    func take(below count: Int) -> Int? {
        lock.withLock {
            guard next < count else { return nil }
            next += 1
            return next - 1
        }
    }
}
