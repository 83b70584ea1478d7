import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Logging
import Testing

extension PhysicalRestoreTests {
    /// Base backups and WAL archives in moto's S3 (signature checking on). Nested, so it is serialized with the other
    /// physical tests that share the source cluster and its archive.
    @Suite("on S3")
    struct OnS3 {
        let source = PhysicalSource.shared

        /// Live dependencies whose S3 store reads moto's credentials.
        static func dependencies(_ moto: MotoServer.Handle, scratch: String) async -> DrillDependencies {
            let env = moto.environment
            let stores = StoreRegistry(makers: StoreRegistry.live().makers.merging(["s3": { location, endpoint, region in
                try S3Store(location: location, endpoint: endpoint, region: region, environment: env)
            }]) { _, b in b })
            return await LiveDependencies.make(scratchRoot: scratch, drillVersion: "test",
                                               logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), stores: stores)
        }

        @Test("a WAL archive on S3 (moto, signatures checked) restores exactly as the same archive in a folder")
        func s3Archive() async throws {
            let folder = TempFolder("pitr-s3")
            let backups = try await source.freshBaseBackup(in: folder, ["-Ft", "-z"])
            let tag = "S\(UUID().uuidString.prefix(6))"
            try await source.insert(batch: tag, rows: 250, into: "pitr")
            try await source.switchWAL()
            let (_, archive) = try await source.start()
            let before = try await source.archiveListing()

            // The same archive, uploaded under a prefix (plus an object in a sub-prefix, which is not part of it).
            let moto = try await MotoServer.shared.start()
            let bucket = await MotoServer.shared.newBucketName("walarchive")
            var ops: [[String: any Sendable]] = [["op": "bucket", "bucket": bucket],
                                                 ["op": "put", "bucket": bucket, "key": "wal/old/000000010000000000000099", "text": "nested"]]
            for name in before {
                ops.append(["op": "put", "bucket": bucket, "key": "wal/\(name)", "file": (archive as NSString).appendingPathComponent(name)])
            }
            try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: ops)

            let checks = "[\(PhysicalRestoreTests.count(tag, equals: 250))]"
            let fromFolder = try await runDrill(PhysicalRestoreTests.drill(backups: backups, wal: archive, checks: checks), name: "pitr", in: folder)
            let s3JSON = PhysicalRestoreTests.drill(backups: backups, wal: "s3://\(bucket)/wal/", checks: checks)
                .replacingOccurrences(of: #""location": "s3://\#(bucket)/wal/" }"#, with: #""location": "s3://\#(bucket)/wal/", "endpoint": "\#(moto.endpoint)" }"#)
            #expect(s3JSON.contains(moto.endpoint))
            let configFolder = TempFolder("pitr-s3c")
            let config = try ConfigFixture(in: configFolder, drills: ["pitr": s3JSON]).load()
            let deps = await Self.dependencies(moto, scratch: folder.sub("scratch"))
            let drill = try #require(config.drills.first)
            let fromS3 = await DrillRunner(deps: deps, clock: ContinuousClock()).run(drill, tier: config.tier(of: drill))

            #expect(fromFolder.status == .compliant, "findings: \(fromFolder.findings)")
            #expect(fromS3.status == .compliant, "findings: \(fromS3.findings)")
            #expect(fromS3.checks.map(\.observed) == ["250"])
            #expect(fromS3.checks.map(\.observed) == fromFolder.checks.map(\.observed))
            #expect(fromS3.measured.recoveryPoint == fromFolder.measured.recoveryPoint)
            #expect(fromS3.wal?.location == "s3://\(bucket)/wal/")
            #expect(fromS3.wal?.segmentsFetched == fromFolder.wal?.segmentsFetched)
            #expect(fromS3.wal?.bytesFetched == fromFolder.wal?.bytesFetched)
            #expect(fromS3.wal?.newestSegment == fromFolder.wal?.newestSegment)
            #expect(fromS3.wal?.backupEndSource == "backup_history_file")
            #expect(!String(decoding: try fromS3.jsonData(), as: UTF8.self).contains(moto.secretAccessKey))
            try await PhysicalRestoreTests.expectArchiveUnchanged(since: before)
            expectNothingLeft(folder)
        }

        @Test("a base backup on S3 (the newest prefix) with its WAL archive on S3 restores like local ones")
        func s3BaseBackup() async throws {
            let folder = TempFolder("pitr-s3b")
            let (backupDir, tag, archive, before) = try await baseBackupThenBatch(in: folder, rows: 120)

            let moto = try await MotoServer.shared.start()
            let bucket = await MotoServer.shared.newBucketName("basebackup")
            var ops: [[String: any Sendable]] = [
                ["op": "bucket", "bucket": bucket],
                ["op": "put", "bucket": bucket, "key": "base/20261127T0000Z/base.tar.gz", "text": "an older backup: must not be chosen"],
                ["op": "put", "bucket": bucket, "key": "base/README", "text": "not a backup"],
                ["op": "sleep", "seconds": 1.1],
            ]
            let files = try FileManager.default.contentsOfDirectory(atPath: backupDir).sorted()
            #expect(files == ["backup_manifest", "base.tar.gz", "pg_wal.tar.gz"])
            for name in files {
                ops.append(["op": "put", "bucket": bucket, "key": "base/20261128T0800Z/\(name)", "file": (backupDir as NSString).appendingPathComponent(name)])
            }
            for name in before {
                ops.append(["op": "put", "bucket": bucket, "key": "wal/\(name)", "file": (archive as NSString).appendingPathComponent(name)])
            }
            try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: ops)

            let json = """
                { "version": 1, "tier": "critical",
                  "backup": { "location": "s3://\(bucket)/base/", "endpoint": "\(moto.endpoint)", "format": "basebackup", "settle": "0s" },
                  "wal": { "location": "s3://\(bucket)/wal/", "endpoint": "\(moto.endpoint)" },
                  "database": "pitr", "restore": { "profile": "fast" },
                  "checks": [\(PhysicalRestoreTests.count(tag, equals: 120))] }
                """
            let config = try ConfigFixture(in: folder, drills: ["pitr": json]).load()
            let deps = await Self.dependencies(moto, scratch: folder.sub("scratch"))
            let drill = try #require(config.drills.first)
            let report = await DrillRunner(deps: deps, clock: ContinuousClock()).run(drill, tier: config.tier(of: drill))

            #expect(report.status == .compliant, "findings: \(report.findings)")
            #expect(report.backup.uri == "s3://\(bucket)/base/20261128T0800Z/")
            #expect(report.backup.name == "20261128T0800Z")
            #expect(report.backup.sha256?.count == 64)
            let expectedBytes = try files.map { try FileManager.default.attributesOfItem(atPath: (backupDir as NSString).appendingPathComponent($0))[.size] as! NSNumber }
                .reduce(Int64(0)) { $0 + $1.int64Value }
            #expect(report.backup.sizeBytes == expectedBytes)
            #expect(report.checks.map(\.observed) == ["120"])
            #expect(report.wal?.verifiedWith != nil)
            #expect(report.measured.recoveryPointSource == "wal_replay")
            // The staged download is gone with the scratch cluster.
            #expect(Leftovers.scratchEntries(in: folder.sub("scratch")).isEmpty)
            try await PhysicalRestoreTests.expectArchiveUnchanged(since: before)
            expectNothingLeft(folder)
        }
    }
}
