import DrillCore
@testable import DrillLive
import DrillTesting
import Foundation
import Testing

extension PhysicalRestoreTests.OnS3 {
    /// A tar.gz base backup of the source under `folder/local/base`, then a batch of `rows` rows in `ledger` and a WAL
    /// switch: the backup, the batch's tag, the WAL archive and its listing.
    func baseBackupThenBatch(in folder: TempFolder, rows: Int) async throws
        -> (backupDir: String, tag: String, archive: String, before: [String]) {
        try await source.createLedger("pitr")
        let backupDir = (folder.sub("local") as NSString).appendingPathComponent("base")
        try await source.baseBackup(into: backupDir, ["-Ft", "-z"])
        let tag = "B\(UUID().uuidString.prefix(6))"
        try await source.insert(batch: tag, rows: rows, into: "pitr")
        try await source.switchWAL()
        let (_, archive) = try await source.start()
        return (backupDir, tag, archive, try await source.archiveListing())
    }

    /// A base backup on moto uploaded under `base/<name>/`, its WAL archive under `wal/` (for drills that read the
    /// backup through the fault proxy with `backup.connections` 3 and 1 MiB chunks).
    func rangedFixture(_ hint: String, folder: TempFolder) async throws
        -> (moto: MotoServer.Handle, bucket: String, backupDir: String, tag: String, before: [String]) {
        let (backupDir, tag, archive, before) = try await baseBackupThenBatch(in: folder, rows: 90)
        let moto = try await MotoServer.shared.start()
        let bucket = await MotoServer.shared.newBucketName(hint)
        var ops: [[String: any Sendable]] = [["op": "bucket", "bucket": bucket]]
        for name in try FileManager.default.contentsOfDirectory(atPath: backupDir) {
            ops.append(["op": "put", "bucket": bucket, "key": "base/20261128T0800Z/\(name)", "file": (backupDir as NSString).appendingPathComponent(name)])
        }
        for name in before {
            ops.append(["op": "put", "bucket": bucket, "key": "wal/\(name)", "file": (archive as NSString).appendingPathComponent(name)])
        }
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: ops)
        return (moto, bucket, backupDir, tag, before)
    }

    func rangedDrill(bucket: String, backupEndpoint: String, walEndpoint: String, checks: String) -> String {
        """
        { "version": 1, "tier": "critical",
          "backup": { "location": "s3://\(bucket)/base/", "endpoint": "\(backupEndpoint)", "format": "basebackup", "settle": "0s",
                      "connections": 3, "chunk_mib": 1 },
          "wal": { "location": "s3://\(bucket)/wal/", "endpoint": "\(walEndpoint)" },
          "database": "pitr", "restore": { "profile": "fast" },
          "checks": \(checks) }
        """
    }

    @Test("a base backup fetched over 3 connections in 1 MiB chunks, one cut mid-chunk, restores with the files' digest")
    func rangedBaseBackup() async throws {
        let folder = TempFolder("pitr-rng")
        let f = try await rangedFixture("rangedbase", folder: folder)
        let base = (f.backupDir as NSString).appendingPathComponent("base.tar.gz")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: base)[.size] as? NSNumber).intValue
        try #require(size > 2 << 20, "base.tar.gz is \(size) bytes: too small for several chunks")
        let proxy = try await FaultProxy(upstreamPort: URL(string: f.moto.endpoint)!.port!, match: "base.tar.gz",
                                         faults: ["@\(1 << 20):cut:200000"])
        defer { proxy.stop() }
        let json = rangedDrill(bucket: f.bucket, backupEndpoint: proxy.endpoint, walEndpoint: f.moto.endpoint,
                               checks: "[\(PhysicalRestoreTests.count(f.tag, equals: 90))]")
        let config = try ConfigFixture(in: folder, drills: ["pitr": json]).load()
        let deps = await Self.dependencies(f.moto, scratch: folder.sub("scratch"))
        let drill = try #require(config.drills.first)
        #expect(drill.backup.download == DownloadOptions(connections: 3, chunkBytes: 1 << 20))
        let report = await DrillRunner(deps: deps, clock: ContinuousClock()).run(drill, tier: config.tier(of: drill))

        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.checks.map(\.observed) == ["90"])
        #expect(report.restore.mode == "stream")
        // The digest of the streamed folder is the digest of the same files on disk.
        #expect(report.backup.sha256 == (try LocalStore.treeDigest(f.backupDir)).0)
        let gets = try await proxy.log().filter { $0.method == "GET" && $0.path.contains("base.tar.gz") }
        let plan = ChunkPlan(size: Int64(size), chunkBytes: 1 << 20)
        let ranges = gets.compactMap(\.range)
        #expect(Set((0..<plan.count).map { plan.rangeHeader($0) }).isSubset(of: Set(ranges)))
        #expect(gets.filter { $0.fault == "cut:200000" }.count == 1)
        // The cut chunk was resumed from inside itself, not fetched again from its start.
        #expect(ranges.contains { r in
            let from = Int(r.dropFirst("bytes=".count).prefix { $0.isNumber }) ?? 0
            return from > 1 << 20 && from <= 1 << 20 + 200_000 && r.hasSuffix("-\(2 << 20 - 1)")
        }, "\(ranges)")
        try await PhysicalRestoreTests.expectArchiveUnchanged(since: f.before)
        expectNothingLeft(folder)
    }

    @Test("a chunk of the base backup refused (403) fails the drill clearly, with nothing left behind")
    func rangedBaseBackupRefused() async throws {
        let folder = TempFolder("pitr-rng403")
        let f = try await rangedFixture("rangeddenied", folder: folder)
        let proxy = try await FaultProxy(upstreamPort: URL(string: f.moto.endpoint)!.port!, match: "base.tar.gz",
                                         faults: ["@\(2 << 20):403"])
        defer { proxy.stop() }
        let json = rangedDrill(bucket: f.bucket, backupEndpoint: proxy.endpoint, walEndpoint: f.moto.endpoint, checks: "[]")
        let config = try ConfigFixture(in: folder, drills: ["pitr": json]).load()
        let deps = await Self.dependencies(f.moto, scratch: folder.sub("scratch"))
        let drill = try #require(config.drills.first)
        let report = await DrillRunner(deps: deps, clock: ContinuousClock()).run(drill, tier: config.tier(of: drill))

        #expect(report.status == .failed)
        #expect(report.failureCode == "store_denied", "findings: \(report.findings)")
        let text = report.findings.joined(separator: "\n")
        #expect(text.contains("s3://\(f.bucket)/base/20261128T0800Z/base.tar.gz") && text.contains("403"), "\(text)")
        #expect(!String(decoding: try report.jsonData(), as: UTF8.self).contains(f.moto.secretAccessKey))
        #expect(report.phases.first { $0.name == "extract" }?.ok == false)
        try await PhysicalRestoreTests.expectArchiveUnchanged(since: f.before)
        expectNothingLeft(folder)
    }
}
