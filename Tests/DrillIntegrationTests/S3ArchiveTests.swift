import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Logging
import Testing

/// The audit archive on S3 (moto, signature checking on): the `drill` binary writing and reading it, conditional
/// creates, the lock object, and concurrent writers.
@Suite("Archive on S3 (moto)", .timeLimit(.minutes(5)))
struct S3ArchiveTests {
    /// A new, empty bucket and the environment that points the S3 archive at moto.
    func bucket(_ hint: String) async throws -> (moto: MotoServer.Handle, bucket: String, env: [String: String]) {
        let moto = try await MotoServer.shared.start()
        let bucket = await MotoServer.shared.newBucketName(hint)
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: [["op": "bucket", "bucket": bucket]])
        var env = moto.environment
        env["AWS_ENDPOINT_URL"] = moto.endpoint
        return (moto, bucket, env)
    }

    /// The objects under `prefix`, as boto3 sees them: key → SHA-256.
    func objects(_ moto: MotoServer.Handle, _ bucket: String, prefix: String) async throws -> [String: String] {
        let out = try await S3Admin.run(endpoint: moto.endpoint, credentials: moto,
                                        ops: [["op": "list", "bucket": bucket, "prefix": prefix]])
        return Dictionary(uniqueKeysWithValues: out.map { ($0["key"] ?? "", $0["sha256"] ?? "") })
    }

    func storage(_ location: String, env: [String: String], lockWait: Duration = .seconds(120),
                 staleAfter: Duration = .seconds(600), log: LogRecorder? = nil) throws -> S3ArchiveStorage {
        try S3ArchiveStorage(location: location, environment: env, retry: RetryPolicy(maxAttempts: 2),
                             lockWait: lockWait, staleAfter: staleAfter,
                             logger: Logger(label: "test", factory: { _ in
                                 log.map { $0 as any LogHandler } ?? SwiftLogNoOpLogHandler() }))
    }

    @Test("s3:// archive locations build the S3 storage, with the prefix as a folder")
    func location() throws {
        let env = ["AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"]
        let s = try #require(try ArchiveLocation.storage(for: "s3://bucket/audit/drill", environment: env) as? S3ArchiveStorage)
        #expect(s.location == "s3://bucket/audit/drill/")
        #expect(s.displayPath("2026/11/x.md") == "s3://bucket/audit/drill/2026/11/x.md")
        #expect(s.lockKey == "audit/drill/.lock")
        let root = try #require(try ArchiveLocation.storage(for: "s3://bucket", environment: env) as? S3ArchiveStorage)
        #expect(root.location == "s3://bucket/")
        #expect(root.lockKey == ".lock")
        #expect(throws: (any Error).self) { try ArchiveLocation.storage(for: "s3:///nobucket", environment: env) }
    }

    @Test("drill run --archive s3://… writes the report, its rendering and the chain entry; verify, history, tampering")
    func drillRunWritesToS3() async throws {
        let (moto, bucket, s3env) = try await bucket("archiverun")
        let folder = TempFolder("s3-archive-run")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop-20260101.dump")
        let drill = ConfigFixture.drill(location: backups, pattern: "shop*",
                                        checks: ConfigFixture.shopChecks(orders: Shop.orders))
        let config = try ConfigFixture(in: folder, drills: ["shop": drill])
        let archive = "s3://\(bucket)/audit/reports/"
        var env = s3env
        env["DRILL_SCRATCH_DIR"] = folder.sub("scratch")
        let unset = ["PG*", "DRILL_*", "AWS_*"]
        let secret = moto.secretAccessKey

        let run = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", archive],
                                            environment: env, unset: unset)
        #expect(run.exitCode == 0, "\(run.output)")
        #expect(run.output.contains(archive), "the summary names the report on S3: \(run.output)")
        #expect(!run.output.contains(secret))
        expectNothingLeft(folder)

        // The same layout as a local folder, under the prefix; the lock object is gone.
        let objects = try await objects(moto, bucket, prefix: "")
        let keys = objects.keys.sorted()
        #expect(keys.count == 3, "\(keys)")
        let json = try #require(keys.first { $0.hasSuffix(".json") })
        let markdown = try #require(keys.first { $0.hasSuffix(".md") })
        let stem = String(json.dropLast(".json".count))
        #expect(markdown == stem + ".md")
        #expect(stem.wholeMatch(of: #/audit/reports/\d{4}/\d{2}/shop-\d{8}T\d{6}Z/#) != nil, "\(stem)")
        #expect(keys.contains("audit/reports/chain/00000001.sha256"))
        let reader = try storage(archive, env: s3env)
        let entry = String(decoding: try await reader.read("chain/00000001.sha256"), as: UTF8.self)
        let relJSON = String(json.dropFirst("audit/reports/".count)), relMD = String(markdown.dropFirst("audit/reports/".count))
        #expect(entry == "\(objects[json]!)  \(relJSON)\n\(objects[markdown]!)  \(relMD)\n", "\(entry)")
        let report = try DrillReport.decoder().decode(DrillReport.self, from: try await reader.read(relJSON))
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.previousSHA256 == nil)

        let verify = try await DrillBinary.run(["archive", "verify", "--config", config.directory, "--archive", archive],
                                               environment: s3env, unset: unset)
        #expect(verify.exitCode == 0, "\(verify.output)")
        #expect(verify.stdout.contains("OK: \(archive): intact: 1 report in the chain, head \(objects[json]!)"), "\(verify.stdout)")

        let history = try await DrillBinary.run(["history", "--config", config.directory, "--archive", archive],
                                                environment: s3env, unset: unset)
        #expect(history.exitCode == 0, "\(history.output)")
        #expect(history.stdout.contains("shop"), "\(history.stdout)")
        #expect(history.stdout.contains("critical"), "\(history.stdout)")

        // One byte of the report changed through the S3 API: verify names it.
        var bytes = try await reader.read(relJSON)
        bytes[bytes.count / 2] ^= 0x01
        let edited = folder.file("edited.json")
        try bytes.write(to: URL(fileURLWithPath: edited))
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto,
                              ops: [["op": "put", "bucket": bucket, "key": json, "file": edited]])
        let bad = try await DrillBinary.run(["archive", "verify", "--config", config.directory, "--archive", archive],
                                            environment: s3env, unset: unset)
        #expect(bad.exitCode == 1, "\(bad.output)")
        #expect(bad.stdout.contains("TAMPERED: \(archive)"), "\(bad.stdout)")
        #expect(bad.stdout.contains("first problem: edited: \(relJSON)"), "\(bad.stdout)")
        for output in [verify.output, history.output, bad.output] { #expect(!output.contains(secret)) }
        for path in try await reader.list() {
            #expect(!String(decoding: try await reader.read(path), as: UTF8.self).contains(secret), "\(path) shows the secret")
        }
    }

    @Test("drill archive verify with a wrong secret: exit 3 (archive unreadable), a clear message, the secret nowhere")
    func verifyDenied() async throws {
        let (_, bucket, s3env) = try await bucket("archivedenied")
        var env = s3env
        let secret = "Wr0ng/Secret+\(UUID().uuidString)"
        env["AWS_SECRET_ACCESS_KEY"] = secret
        let r = try await DrillBinary.run(["archive", "verify", "--archive", "s3://\(bucket)/a/"], environment: env,
                                          unset: ["PG*", "DRILL_*", "AWS_*"])
        #expect(r.exitCode == 3, "\(r.output)")
        #expect(r.stderr.contains("S3 denied access to the listing of s3://\(bucket)/a/"), "\(r.output)")
        #expect(!r.output.contains(secret))
    }

    @Test("create never overwrites: a second create of a key fails and leaves the first bytes; the same bytes again pass")
    func createNeverOverwrites() async throws {
        let (moto, bucket, env) = try await bucket("archivecreate")
        let s = try storage("s3://\(bucket)/a", env: env)
        try await s.create("chain/00000001.sha256", data: Data("first\n".utf8))
        await #expect(throws: ArchiveError.self) {
            try await s.create("chain/00000001.sha256", data: Data("second\n".utf8))
        }
        #expect(try await s.read("chain/00000001.sha256") == Data("first\n".utf8))
        try await s.create("chain/00000001.sha256", data: Data("first\n".utf8))  // a retried PUT finding its own bytes
        #expect(try await s.list() == ["chain/00000001.sha256"])
        let objects = try await objects(moto, bucket, prefix: "a/")
        #expect(objects == ["a/chain/00000001.sha256": SHA256Hasher.hex(of: Data("first\n".utf8))])
    }

    @Test("list pages through every object under the prefix, at any depth, and only those")
    func listRecursiveAndPaged() async throws {
        let (moto, bucket, env) = try await bucket("archivelist")
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: [
            ["op": "put_many", "bucket": bucket, "prefix": "a/2026/11/r", "count": 1005, "suffix": ".json"],
            ["op": "put", "bucket": bucket, "key": "a/chain/00000001.sha256", "text": "x"],
            ["op": "put", "bucket": bucket, "key": "a/.lock", "text": "x"],
            ["op": "put", "bucket": bucket, "key": "ab/other.json", "text": "x"],
            ["op": "put", "bucket": bucket, "key": "elsewhere.json", "text": "x"],
        ])
        let paths = try await storage("s3://\(bucket)/a/", env: env).list()
        #expect(paths.count == 1006)
        #expect(paths.first == "2026/11/r00000.json")
        #expect(paths.contains("2026/11/r01004.json"))
        #expect(paths.last == "chain/00000001.sha256")
    }

    @Test("concurrent writers through separate clients append one after another: one chain, no fork, no lock left")
    func concurrentAppends() async throws {
        let (moto, bucket, env) = try await bucket("archiveconcurrent")
        let location = "s3://\(bucket)/reports/"
        let reports = Array(DemoArchive.reports().prefix(9))
        let writers = 3
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<writers {
                let mine = reports.enumerated().filter { $0.offset % writers == w }.map(\.element)
                let archive = ReportArchive(storage: try storage(location, env: env))  // a client of its own, like a process
                group.addTask { for r in mine { try await archive.append(r) } }
            }
            try await group.waitForAll()
        }
        let s = try storage(location, env: env)
        let result = try await ChainVerifier(digest: { SHA256Hasher.hex(of: $0) }).verify(s)
        #expect(result.intact, "\(result.issues)")
        #expect(result.entries == reports.count)
        let paths = try await s.list()
        #expect(paths.filter { $0.hasPrefix("chain/") } == (1...reports.count).map { ChainEntry.path(sequence: $0) })
        #expect(paths.count == 3 * reports.count)
        #expect(try await objects(moto, bucket, prefix: "reports/.lock").isEmpty)
    }

    @Test("two drill run processes append to one S3 archive at the same time: two entries, one chain")
    func twoProcesses() async throws {
        let (moto, bucket, s3env) = try await bucket("archivetwoprocs")
        let folder = TempFolder("s3-archive-two")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop-20260101.dump")
        let drill = ConfigFixture.drill(location: backups, pattern: "shop*", checks: ConfigFixture.shopChecks(orders: Shop.orders))
        let config = try ConfigFixture(in: folder, drills: ["shop": drill])
        let archive = "s3://\(bucket)/two"
        var env = s3env
        env["DRILL_SCRATCH_DIR"] = folder.sub("scratch")
        let args = ["run", "shop", "--config", config.directory, "--archive", archive]
        async let a = DrillBinary.run(args, environment: env, unset: ["PG*", "DRILL_*", "AWS_*"])
        async let b = DrillBinary.run(args, environment: env, unset: ["PG*", "DRILL_*", "AWS_*"])
        let runs = try await [a, b]
        for run in runs { #expect(run.exitCode == 0, "\(run.output)") }
        expectNothingLeft(folder)
        let verify = try await DrillBinary.run(["archive", "verify", "--archive", archive], environment: s3env,
                                               unset: ["PG*", "DRILL_*", "AWS_*"])
        #expect(verify.exitCode == 0, "\(verify.output)")
        #expect(verify.stdout.contains("intact: 2 reports in the chain"), "\(verify.stdout)")
        let keys = try await objects(moto, bucket, prefix: "two/").keys
        #expect(keys.filter { $0.hasPrefix("two/chain/") }.sorted() == ["two/chain/00000001.sha256", "two/chain/00000002.sha256"])
        #expect(keys.count == 6, "\(keys.sorted())")
        #expect(!keys.contains("two/.lock"))
    }

    @Test("the lock: a writer waits while it is held, gives up naming the holder, and breaks a stale one")
    func lockObject() async throws {
        let (moto, bucket, env) = try await bucket("archivelock")
        let location = "s3://\(bucket)/a/"
        let held = "drill archive lock\nholder: otherhost pid 4242\nacquired: 2026-11-28T07:00:00Z\ntoken: theirs\n"
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto,
                              ops: [["op": "put", "bucket": bucket, "key": "a/.lock", "text": held]])
        let report = DemoArchive.reports()[0]

        // Held and fresh: the writer gives up after its wait, writes nothing, leaves the other writer's lock.
        let impatient = ReportArchive(storage: try storage(location, env: env, lockWait: .seconds(1)))
        let error = await #expect(throws: ArchiveError.self) { try await impatient.append(report) }
        #expect(error?.description.contains("s3://\(bucket)/a/.lock is held") == true, "\(String(describing: error))")
        #expect(error?.description.contains("otherhost pid 4242") == true, "\(String(describing: error))")
        #expect(try await objects(moto, bucket, prefix: "a/").keys.sorted() == ["a/.lock"])

        // Released while a writer waits: it goes on.
        let patient = ReportArchive(storage: try storage(location, env: env, lockWait: .seconds(30)))
        let waiting = Task { try await patient.append(report) }
        try await Task.sleep(for: .milliseconds(1500))
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: [["op": "delete", "bucket": bucket, "key": "a/.lock"]])
        let first = try await waiting.value
        #expect(first.entry.sequence == 1)

        // Left behind by a writer that died: broken once older than staleAfter (by S3's clock), then released.
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: [
            ["op": "put", "bucket": bucket, "key": "a/.lock", "text": held], ["op": "sleep", "seconds": 2.5],
        ])
        let log = LogRecorder()
        let breaker = ReportArchive(storage: try storage(location, env: env, lockWait: .seconds(1), staleAfter: .seconds(2), log: log))
        let second = try await breaker.append(report)
        let broken = log.messages.filter { $0.message == "breaking a stale archive lock" }
        #expect(broken.count == 1, "\(log.messages)")
        #expect(broken.first?.metadata["holder"] == "otherhost pid 4242")
        #expect(broken.first?.metadata["since"]?.hasPrefix("20") == true, "\(broken)")
        #expect(second.entry.sequence == 2)
        #expect(second.report.previousSHA256 == first.entry.jsonSHA256)
        let keys = try await objects(moto, bucket, prefix: "a/").keys
        #expect(!keys.contains("a/.lock"))
        #expect(keys.count == 6)
    }
}
