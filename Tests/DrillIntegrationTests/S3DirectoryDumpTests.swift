import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

@Suite("Directory-format dumps on S3 (moto): a prefix with toc.dat and *.dat.gz", .timeLimit(.minutes(5)))
struct S3DirectoryDumpTests {
    @Test("the newest directory dump under the location is fetched into the private staging folder and restored with 2 jobs")
    func directoryDump() async throws {
        let folder = TempFolder("s3dir")
        let dir = try await Shop.shared.dump(.directory)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(files.contains("toc.dat") && files.contains { $0.hasSuffix(".dat.gz") })
        let moto = try await MotoServer.shared.start()
        let bucket = await MotoServer.shared.newBucketName("s3dir")
        var ops: [[String: any Sendable]] = [
            ["op": "bucket", "bucket": bucket],
            // An older dump file and a prefix that is not a dump: neither is chosen.
            ["op": "put", "bucket": bucket, "key": "nightly/shop-20251231.dump", "file": try await Shop.shared.dump(.custom)],
            ["op": "put", "bucket": bucket, "key": "nightly/shop-notes/readme.txt", "text": "not a dump"],
            ["op": "sleep", "seconds": 1.1],
        ]
        for f in files {
            ops.append(["op": "put", "bucket": bucket, "key": "nightly/shop-20260101.dir/\(f)", "file": (dir as NSString).appendingPathComponent(f)])
        }
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: ops)

        let report = try await runS3Drill(encodedDrill(location: "s3://\(bucket)/nightly/", endpoint: moto.endpoint, jobs: 2), moto: moto, in: folder)
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.backup.uri == "s3://\(bucket)/nightly/shop-20260101.dir/")
        #expect(report.backup.name == "shop-20260101.dir")
        #expect(report.backup.sourceDatabase == "shop")
        #expect(report.restore.mode == "file")
        #expect(report.restore.jobs == 2)
        #expect(report.measured.recoveryPointSource == "archive_header")
        #expect(report.backup.sha256?.count == 64)
        #expect(report.checks.map(\.observed) == ["100000", "\(Shop.orders)", "0"])
        expectNothingLeft(folder)
        #expect(folder.entries("scratch").isEmpty, "the staged folder is removed")
    }
}
