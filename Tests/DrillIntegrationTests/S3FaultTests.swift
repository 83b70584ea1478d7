import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// Downloads through a fault-injecting proxy in front of moto: 500 answers, bodies cut mid-transfer, stalls, and
/// cancellation. Each fetch must end with every byte exactly once and the right digest.
@Suite("S3 downloads under faults")
struct S3FaultTests {
    static let size = 5 << 20 + 123

    /// A bucket with one random object; returns the bucket, the object's bytes and moto.
    func fixture(_ hint: String, size: Int = S3FaultTests.size) async throws -> (MotoServer.Handle, String, Data) {
        let moto = try await MotoServer.shared.start()
        let bucket = await MotoServer.shared.newBucketName(hint)
        let dir = try TempFiles.directory()
        let data = try TempFiles.random("\(dir)/obj", size: size)
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: [
            ["op": "bucket", "bucket": bucket],
            ["op": "put", "bucket": bucket, "key": "backups/db.dump", "file": "\(dir)/obj"],
        ])
        return (moto, bucket, data)
    }

    func store(_ moto: MotoServer.Handle, _ bucket: String, via proxy: FaultProxy, limits: TransferLimits = TransferLimits(),
               attempts: Int = 5) throws -> S3Store {
        try S3Store(location: "s3://\(bucket)/backups/", endpoint: proxy.endpoint, region: nil, environment: moto.environment,
                    transport: CurlTransport(limits: limits),
                    retry: RetryPolicy(maxAttempts: attempts, baseDelay: .milliseconds(50), maxDelay: .milliseconds(400)))
    }

    @Test("stage: a 500 answer, then a body cut after 1 MB; the download resumes with Range and the digest is right")
    func stageThrough500AndCut() async throws {
        let (moto, bucket, data) = try await fixture("stagecut")
        let proxy = try await FaultProxy(upstreamPort: URL(string: moto.endpoint)!.port!, match: "db.dump",
                                         faults: ["500", "cut:1000000", "ok"])
        defer { proxy.stop() }
        let s3 = try store(moto, bucket, via: proxy)
        let object = try #require(try await s3.list(matching: nil).first)
        let staged = try await s3.stage(object, into: try TempFiles.directory("drill-stage"), progress: nil)
        #expect(staged.sizeBytes == Int64(data.count))
        #expect(staged.sha256 == SHA256Hasher.hex(of: data))
        #expect(FileManager.default.contents(atPath: staged.path) == data)

        let gets = try await proxy.log().filter { $0.method == "GET" && $0.path.contains("db.dump") }
        #expect(gets.map(\.fault) == ["500", "cut:1000000", "ok"])
        #expect(gets[0].range == nil)
        #expect(gets[1].range == nil)
        let resumedFrom = try #require(gets[2].range.flatMap { Int($0.dropFirst("bytes=".count).dropLast()) })
        #expect(resumedFrom > 0 && resumedFrom <= 1_000_000, "resumed from byte \(resumedFrom)")
    }

    @Test("stream into a pipe: two cuts; no byte is written twice and the digest covers the whole object")
    func streamThroughCuts() async throws {
        let (moto, bucket, data) = try await fixture("streamcut")
        let proxy = try await FaultProxy(upstreamPort: URL(string: moto.endpoint)!.port!, match: "db.dump",
                                         faults: ["cut:700000", "drop", "cut:2000000"])
        defer { proxy.stop() }
        let s3 = try store(moto, bucket, via: proxy)
        let object = try #require(try await s3.list(matching: nil).first)
        let pipe = Pipe()
        let drain = TempFiles.Drain(pipe.fileHandleForReading)
        let progress = ProgressLog()
        let receipt = try await s3.stream(object, to: pipe.fileHandleForWriting, progress: progress.record)
        try pipe.fileHandleForWriting.close()
        let received = drain.value()
        #expect(received.count == data.count)
        #expect(received == data)
        #expect(receipt.bytes == Int64(data.count))
        #expect(receipt.sha256 == SHA256Hasher.hex(of: data))
        #expect(progress.last?.done == Int64(data.count))
        let ranges = try await proxy.log().filter { $0.method == "GET" && $0.path.contains("db.dump") }.map(\.range)
        #expect(ranges.count == 4)
        #expect(ranges.first == .some(nil))
        #expect(ranges.dropFirst().allSatisfy { $0?.hasPrefix("bytes=") == true && $0 != "bytes=0-" })
    }

    @Test("a stalled transfer is abandoned after the low-speed limit and resumed")
    func stall() async throws {
        let (moto, bucket, data) = try await fixture("stall")
        let proxy = try await FaultProxy(upstreamPort: URL(string: moto.endpoint)!.port!, match: "db.dump",
                                         faults: ["stall:300000:180"])
        defer { proxy.stop() }
        let s3 = try store(moto, bucket, via: proxy, limits: TransferLimits(lowSpeedBytesPerSecond: 1024, lowSpeedSeconds: 2))
        let object = try #require(try await s3.list(matching: nil).first)
        let started = ContinuousClock.now
        let staged = try await s3.stage(object, into: try TempFiles.directory("drill-stage"), progress: nil)
        let elapsed = ContinuousClock.now - started
        #expect(staged.sha256 == SHA256Hasher.hex(of: data))
        // The proxy stays silent for 180 s: finishing well before that means the low-speed limit cut the connection
        // (a loaded CI machine once took 21 s, so the bound is wide, not tight).
        #expect(elapsed >= .seconds(2) && elapsed < .seconds(120), "took \(elapsed)")
        #expect(try await proxy.log().filter { $0.method == "GET" && $0.path.contains("db.dump") }.count == 2)
    }

    @Test("server errors on every try: the fetch gives up after the configured attempts with a clear message")
    func persistent500() async throws {
        let (moto, bucket, _) = try await fixture("always500")
        let proxy = try await FaultProxy(upstreamPort: URL(string: moto.endpoint)!.port!, match: "db.dump",
                                         faults: Array(repeating: "500", count: 10))
        defer { proxy.stop() }
        let s3 = try store(moto, bucket, via: proxy, attempts: 3)
        let object = try #require(try await s3.list(matching: nil).first)
        let error = await #expect(throws: DrillError.self) {
            try await s3.stage(object, into: try TempFiles.directory("drill-stage"), progress: nil)
        }
        #expect(error?.code == .storeUnavailable)
        #expect(error?.message.contains("s3://\(bucket)/backups/db.dump") == true)
        #expect(error?.message.contains("HTTP 500") == true)
        #expect(try await proxy.log().filter { $0.method == "GET" && $0.path.contains("db.dump") }.count == 3)
    }

    @Test("cancelling the task aborts a stuck transfer promptly")
    func cancellation() async throws {
        let (moto, bucket, _) = try await fixture("cancel")
        let proxy = try await FaultProxy(upstreamPort: URL(string: moto.endpoint)!.port!, match: "db.dump",
                                         faults: ["stall:100000:180"])
        defer { proxy.stop() }
        let s3 = try store(moto, bucket, via: proxy)
        let object = try #require(try await s3.list(matching: nil).first)
        let dir = try TempFiles.directory("drill-stage")
        let task = Task { try await s3.stage(object, into: dir, progress: nil) }
        try await Task.sleep(for: .milliseconds(1500))
        let started = ContinuousClock.now
        task.cancel()
        let result = await task.result
        // Well under the 60 s low-speed limit and the proxy's 180 s of silence; loose enough for a loaded 2-core CI machine.
        #expect(ContinuousClock.now - started < .seconds(45))
        #expect(throws: CancellationError.self) { try result.get() }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty, "the partial file is removed")
    }

    @Test("a reader that stops early: the stream fails with a broken pipe (not a crash, not a DrillError), untried again")
    func readerStopsEarly() async throws {
        let (moto, bucket, _) = try await fixture("brokenpipe")
        let proxy = try await FaultProxy(upstreamPort: URL(string: moto.endpoint)!.port!, match: "db.dump", faults: [])
        defer { proxy.stop() }
        let s3 = try store(moto, bucket, via: proxy)
        let object = try #require(try await s3.list(matching: nil).first)
        let pipe = Pipe()
        try pipe.fileHandleForReading.close()
        await #expect {
            _ = try await s3.stream(object, to: pipe.fileHandleForWriting, progress: nil)
        } throws: { error in
            !(error is DrillError) && "\(error)".contains("Broken pipe") && "\(error)".contains("s3://\(bucket)/backups/db.dump")
        }
        #expect(try await proxy.log().filter { $0.method == "GET" && $0.path.contains("db.dump") }.count == 1)
    }

    @Test("503 SlowDown with Retry-After: the next try waits as long as the server asked")
    func slowDown() async throws {
        let (moto, bucket, data) = try await fixture("slowdown")
        let proxy = try await FaultProxy(upstreamPort: URL(string: moto.endpoint)!.port!, match: "db.dump", faults: ["503ra:2"])
        defer { proxy.stop() }
        let s3 = try store(moto, bucket, via: proxy)
        let object = try #require(try await s3.list(matching: nil).first)
        let started = ContinuousClock.now
        let staged = try await s3.stage(object, into: try TempFiles.directory("drill-stage"), progress: nil)
        #expect(ContinuousClock.now - started >= .seconds(2))
        #expect(staged.sha256 == SHA256Hasher.hex(of: data))
        #expect(try await proxy.log().filter { $0.method == "GET" && $0.path.contains("db.dump") }.map(\.fault) == ["503ra:2", "ok"])
    }
}
