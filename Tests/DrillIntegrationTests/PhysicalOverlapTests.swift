import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

extension PhysicalRestoreTests {
    /// Streaming and overlap against real faults: a TCP connection cut in the middle of a base backup, and a WAL
    /// segment that cannot be fetched while replay is already running. Nested: serialized with the other physical tests.
    @Suite("streamed and overlapped")
    struct Overlap {
        let source = PhysicalSource.shared

        /// A tar base backup of a fresh ledger database, uploaded with the source's archive to a new bucket; the
        /// archive's names after `batches` more WAL switches (each with one batch of rows).
        func upload(_ folder: TempFolder, _ format: [String], batches: Int, tag: String) async throws
            -> (moto: MotoServer.Handle, bucket: String, backupDir: String, switched: [String]) {
            let backupDir = (folder.sub("local") as NSString).appendingPathComponent("base")
            try await source.createLedger("pitr")
            try await source.baseBackup(into: backupDir, format)
            var switched: [String] = []
            for i in 0..<batches {
                try await source.insert(batch: "\(tag)-\(i)", rows: 100, into: "pitr")
                switched.append(try await source.switchWAL())
            }
            let (_, archive) = try await source.start()
            let moto = try await MotoServer.shared.start()
            let bucket = await MotoServer.shared.newBucketName("overlap")
            var ops: [[String: any Sendable]] = [["op": "bucket", "bucket": bucket]]
            for name in try FileManager.default.contentsOfDirectory(atPath: backupDir) {
                ops.append(["op": "put", "bucket": bucket, "key": "base/b1/\(name)", "file": (backupDir as NSString).appendingPathComponent(name)])
            }
            for name in try await source.archiveListing() {
                ops.append(["op": "put", "bucket": bucket, "key": "wal/\(name)", "file": (archive as NSString).appendingPathComponent(name)])
            }
            try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: ops)
            return (moto, bucket, backupDir, switched)
        }

        func run(_ json: String, _ moto: MotoServer.Handle, in folder: TempFolder) async throws -> DrillReport {
            let config = try ConfigFixture(in: folder, drills: ["pitr": json]).load()
            let deps = await OnS3.dependencies(moto, scratch: folder.sub("scratch"))
            let drill = try #require(config.drills.first)
            return await DrillRunner(deps: deps, clock: ContinuousClock()).run(drill, tier: config.tier(of: drill))
        }

        @Test("a base backup on S3 whose connection is cut mid-stream: the stream resumes with Range, the digest is the folder's, the restore is complete")
        func droppedConnectionResumes() async throws {
            let folder = TempFolder("pitr-cut")
            let tag = "C\(UUID().uuidString.prefix(6))"
            let (moto, bucket, backupDir, _) = try await upload(folder, ["-Ft"], batches: 1, tag: tag)
            // base.tar is tens of MB: the cut lands inside the stream. The head read for backup_label asks for less
            // than a MB, so whichever request comes first, the stream is cut at least once.
            let proxy = try await FaultProxy(upstreamPort: URL(string: moto.endpoint)!.port!, match: "base.tar",
                                             faults: ["cut:3000000", "cut:3000000"])
            defer { proxy.stop() }
            let json = """
                { "version": 1, "tier": "critical",
                  "backup": { "location": "s3://\(bucket)/base/", "endpoint": "\(proxy.endpoint)", "format": "basebackup", "settle": "0s" },
                  "wal": { "location": "s3://\(bucket)/wal/", "endpoint": "\(moto.endpoint)" },
                  "database": "pitr", "restore": { "profile": "fast" },
                  "checks": [\(PhysicalRestoreTests.count(tag + "-0", equals: 100))] }
                """
            let report = try await run(json, moto, in: folder)
            #expect(report.status == .compliant, "findings: \(report.findings)")
            #expect(report.checks.map(\.observed) == ["100"])
            let local = try await LocalStore(location: (backupDir as NSString).deletingLastPathComponent).list(matching: nil)
            let expected = try await LocalStore(location: "/").stage(try #require(local.first { $0.name == "base" }), into: folder.path, progress: nil)
            #expect(report.backup.sha256 == expected.sha256, "the digest of the streamed bytes is the folder's")
            #expect(report.backup.sizeBytes == expected.sizeBytes)
            #expect(report.restore.mode == "stream")
            let gets = try await proxy.log().filter { $0.method == "GET" && $0.path.hasSuffix("base.tar") }
            #expect(gets.contains { ($0.range ?? "").hasPrefix("bytes=") && !($0.range ?? "").hasPrefix("bytes=0-") },
                    "a resumed request: \(gets.map { $0.range ?? "-" })")
            expectNothingLeft(folder)
        }

        @Test("a WAL segment that cannot be fetched while replay already runs: the drill fails naming it, and replay stopped before it")
        func gapDuringReplay() async throws {
            let folder = TempFolder("pitr-rgap")
            let tag = "R\(UUID().uuidString.prefix(6))"
            let (moto, bucket, _, switched) = try await upload(folder, ["-Ft"], batches: 4, tag: tag)
            let missing = switched[2]
            // A window of one segment: the missing segment is fetched only after replay took the ones before it.
            let proxy = try await FaultProxy(upstreamPort: URL(string: moto.endpoint)!.port!, match: missing, faults: ["403"])
            defer { proxy.stop() }
            let json = """
                { "version": 1, "tier": "critical",
                  "backup": { "location": "s3://\(bucket)/base/", "endpoint": "\(moto.endpoint)", "format": "basebackup", "settle": "0s" },
                  "wal": { "location": "s3://\(bucket)/wal/", "endpoint": "\(proxy.endpoint)", "connections": 2, "window_mib": 1 },
                  "database": "pitr", "restore": { "profile": "fast" }, "checks": [] }
                """
            let report = try await run(json, moto, in: folder)
            expectGapDuringReplay(report, missing: missing, firstMissing: report.wal?.firstMissingSegment, replayedTo: report.wal?.replayedTo)
            #expect(try await proxy.log().contains { $0.path.contains(missing) && $0.fault == "403" })
            #expect(report.scratch.removed)
            expectNothingLeft(folder)
        }
    }
}
