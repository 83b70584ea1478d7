import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Logging
import Testing

/// Whole drills whose backups live in moto's S3: through the `drill` binary, and in-process for the streamed paths and
/// the sidecar outcomes.
@Suite("Drills from S3 (moto)", .timeLimit(.minutes(5)))
struct S3DrillTests {
    /// Uploads `file` as `nightly/<name>` (and a sidecar with `sidecar` as its text, if given) to a new bucket.
    func upload(_ file: String, as name: String, sidecar: String? = nil, _ hint: String) async throws -> (MotoServer.Handle, String) {
        let moto = try await MotoServer.shared.start()
        let bucket = await MotoServer.shared.newBucketName(hint)
        var ops: [[String: any Sendable]] = [
            ["op": "bucket", "bucket": bucket],
            ["op": "put", "bucket": bucket, "key": "nightly/old-\(name)", "text": "an older object that is not a dump"],
            ["op": "sleep", "seconds": 1.1],
            ["op": "put", "bucket": bucket, "key": "nightly/\(name)", "file": file],
        ]
        if let sidecar { ops.append(["op": "put", "bucket": bucket, "key": "nightly/\(name).sha256", "text": sidecar]) }
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: ops)
        return (moto, bucket)
    }

    func drillJSON(_ moto: MotoServer.Handle, bucket: String, jobs: Int, verify: String = "if_present", orders: Int = Shop.orders) -> String {
        """
        { "version": 1, "tier": "critical",
          "backup": { "location": "s3://\(bucket)/nightly/", "endpoint": "\(moto.endpoint)", "pattern": "shop*",
                      "verify": "\(verify)", "settle": "0s" },
          "target": { "kind": "embedded" },
          "restore": { "jobs": \(jobs), "profile": "fast" },
          "checks": \(ConfigFixture.shopChecks(orders: orders)) }
        """
    }

    /// Runs a drill in-process with the live dependencies, the S3 store reading moto's credentials.
    func runInProcess(_ json: String, moto: MotoServer.Handle, in folder: TempFolder) async throws -> DrillReport {
        let config = try ConfigFixture(in: folder, drills: ["shop": json]).load()
        let env = moto.environment
        let stores = StoreRegistry(makers: ["s3": { location, endpoint, region in
            try S3Store(location: location, endpoint: endpoint, region: region, environment: env)
        }])
        let deps = await LiveDependencies.make(scratchRoot: folder.sub("scratch"), drillVersion: "test",
                                               logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                                               stores: stores)
        let drill = try #require(config.drills.first)
        return await DrillRunner(deps: deps, clock: ContinuousClock()).run(drill, tier: config.tier(of: drill))
    }

    @Test("drill run: a custom dump from S3 is staged and restored with -j 2; the sidecar matches; no secret is printed")
    func customStagedWithTwoJobs() async throws {
        let dump = try await Shop.shared.dump(.custom)
        let (digest, size) = try SHA256Hasher.hex(ofFile: dump)
        let (moto, bucket) = try await upload(dump, as: "shop-20260101.dump", sidecar: "\(digest)  shop-20260101.dump\n", "e2estaged")
        let folder = TempFolder("s3-e2e")
        let config = try ConfigFixture(in: folder, drills: ["shop": drillJSON(moto, bucket: bucket, jobs: 2)])
        let archive = folder.sub("archive")
        var env = moto.environment
        env["DRILL_SCRATCH_DIR"] = folder.sub("scratch")
        let run = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", archive],
                                            environment: env, unset: ["PG*", "DRILL_*", "AWS_*"])
        #expect(run.exitCode == 0, "\(run.output)")
        let secret = moto.secretAccessKey
        #expect(!run.output.contains(secret))
        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.backup.uri == "s3://\(bucket)/nightly/shop-20260101.dump")
        #expect(report.backup.sha256 == digest)
        #expect(report.backup.sizeBytes == size)
        #expect(report.backup.sidecar == "match")
        #expect(report.restore.mode == "file")
        #expect(report.restore.jobs == 2)
        #expect(report.checks.map(\.observed) == ["100000", "\(Shop.orders)", "0"])
        expectNothingLeft(folder)
        #expect(folder.entries("scratch").isEmpty, "the staged download is removed")
    }

    @Test("custom and plain dumps are streamed from S3 into a single-job restore", arguments: [BackupFormat.custom, .plain])
    func streamed(format: BackupFormat) async throws {
        let dump = try await Shop.shared.dump(format)
        let (digest, _) = try SHA256Hasher.hex(ofFile: dump)
        let name = format == .custom ? "shop-stream.dump" : "shop-stream.sql"
        let (moto, bucket) = try await upload(dump, as: name, sidecar: "\(digest)  \(name)\n", "e2estream\(format.rawValue)")
        let folder = TempFolder("s3-stream")
        let report = try await runInProcess(drillJSON(moto, bucket: bucket, jobs: 1), moto: moto, in: folder)
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.backup.format == format.rawValue)
        #expect(report.restore.mode == "stream")
        #expect(report.backup.sha256 == digest)
        #expect(report.backup.sidecar == "match")
        #expect(report.checks.allSatisfy { $0.passed })
        expectNothingLeft(folder)
    }

    @Test("a sidecar that does not match fails the drill, staged and streamed", arguments: [1, 2])
    func sidecarMismatch(jobs: Int) async throws {
        let dump = try await Shop.shared.dump(.custom)
        let wrong = String(repeating: "0", count: 64)
        let (moto, bucket) = try await upload(dump, as: "shop-bad.dump", sidecar: "\(wrong)  shop-bad.dump\n", "e2emismatch\(jobs)")
        let folder = TempFolder("s3-mismatch")
        let report = try await runInProcess(drillJSON(moto, bucket: bucket, jobs: jobs), moto: moto, in: folder)
        #expect(report.status == .failed)
        #expect(report.backup.sidecar == "mismatch")
        #expect(report.findings.contains { $0.contains("sidecar says \(wrong)") })
        expectNothingLeft(folder)
    }

    @Test("verify required without a sidecar fails the drill")
    func requiredSidecarMissing() async throws {
        let dump = try await Shop.shared.dump(.custom)
        let (moto, bucket) = try await upload(dump, as: "shop-nosidecar.dump", "e2erequired")
        let folder = TempFolder("s3-required")
        let report = try await runInProcess(drillJSON(moto, bucket: bucket, jobs: 2, verify: "required"), moto: moto, in: folder)
        #expect(report.status == .failed)
        #expect(report.backup.sidecar == "absent")
        #expect(report.findings.contains { $0.contains("shop-nosidecar.dump.sha256 does not exist") })
        expectNothingLeft(folder)
    }

    @Test("drill run with a wrong secret: exit 3, a clear message naming the bucket, the secret nowhere")
    func wrongSecret() async throws {
        let dump = try await Shop.shared.dump(.custom)
        let (moto, bucket) = try await upload(dump, as: "shop-denied.dump", "e2edenied")
        let folder = TempFolder("s3-denied")
        let config = try ConfigFixture(in: folder, drills: ["shop": drillJSON(moto, bucket: bucket, jobs: 2)])
        let archive = folder.sub("archive")
        let secret = "Wr0ng/Secret+\(UUID().uuidString)"
        var env = moto.environment
        env["AWS_SECRET_ACCESS_KEY"] = secret
        env["DRILL_SCRATCH_DIR"] = folder.sub("scratch")
        let run = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", archive],
                                            environment: env, unset: ["PG*", "DRILL_*", "AWS_*"])
        #expect(run.exitCode == 3, "\(run.output)")
        #expect(run.output.contains("S3 denied access to the listing of s3://\(bucket)/nightly/"), "\(run.output)")
        #expect(run.output.contains("SignatureDoesNotMatch"))
        #expect(!run.output.contains(secret))
        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        #expect(report.status == .failed)
        let files = try FileManager.default.subpathsOfDirectory(atPath: archive)
        #expect(!files.isEmpty)
        for file in files {
            let text = (try? String(contentsOfFile: (archive as NSString).appendingPathComponent(file), encoding: .utf8)) ?? ""
            #expect(!text.contains(secret), "\(file) shows the secret")
        }
        expectNothingLeft(folder)
    }
}
