import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Logging
import Testing

/// A fleet: many drills at once on one host (`--parallel`), and several workers splitting the fleet (`--shard`) into
/// one S3 archive.
@Suite("A fleet of drills", .serialized, .timeLimit(.minutes(6)))
struct FleetTests {
    /// A small database, dumped once: a fleet test restores it many times.
    static func tinyDump(in folder: TempFolder) async throws -> String {
        let exists = try await SourceDatabase.shared.psql("SELECT 1 FROM pg_database WHERE datname = 'tiny'")
        if exists.isEmpty {
            try await SourceDatabase.shared.psql("CREATE DATABASE tiny")
            try await SourceDatabase.shared.psql("CREATE TABLE items AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 2000) g",
                                                 database: "tiny")
        }
        let path = folder.file("tiny.dump")
        try await SourceDatabase.shared.dump("tiny", to: path, format: .custom)
        return path
    }

    static let itemsCheck = #"[ { "name": "items", "sql": "SELECT count(*) FROM items", "expect": { "equals": 2000 } } ]"#

    static func fleet(_ n: Int, in folder: TempFolder) async throws -> ConfigFixture {
        let dump = try await tinyDump(in: folder)
        var drills: [String: String] = [:]
        for i in 0..<n {
            let dir = folder.sub("backups/db\(i)")
            _ = try copy(dump, into: dir, as: "db\(i).dump")
            drills["db\(i)"] = ConfigFixture.drill(tier: ["critical", "important", "standard"][i % 3], location: dir, jobs: 1,
                                                   checks: itemsCheck)
        }
        return try ConfigFixture(in: folder, drills: drills)
    }

    @Test("--parallel 4 on 12 drills: every report lands once, the chain is intact, no port or folder clash, nothing left; progress lines name their drill")
    func parallel() async throws {
        let folder = TempFolder("fleet-par")
        let config = try await Self.fleet(12, in: folder)
        let archive = folder.sub("archive")
        let r = try await DrillBinary.run(["run", "--all", "--parallel", "4", "--config", config.directory, "--archive", archive],
                                          environment: ["TMPDIR": folder.sub("scratch")])
        #expect(r.exitCode == 0, "\(r.output)")
        let reports = try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports()
        #expect(reports.unreadable.isEmpty)
        #expect(reports.reports.map(\.report.drill).sorted() == (0..<12).map { "db\($0)" }.sorted())
        #expect(reports.reports.allSatisfy { $0.report.status == .compliant }, "\(reports.reports.map(\.report.findings))")
        // Four at once really overlapped: some drill started before another had finished.
        let spans = reports.reports.map { ($0.report.startedAt, $0.report.finishedAt) }.sorted { $0.0 < $1.0 }
        #expect(zip(spans, spans.dropFirst()).contains { $1.0 < $0.1 }, "no two drills overlapped")
        let verify = try await DrillBinary.run(["archive", "verify", "--config", config.directory, "--archive", archive])
        #expect(verify.exitCode == 0, "\(verify.output)")
        #expect(verify.stdout.contains("12 reports"), "\(verify.stdout)")
        // Without a terminal, every progress line says which drill it is about.
        let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.allSatisfy { line in (0..<12).contains { line.contains("db\($0):") } }, "\(lines.prefix(5))")
        expectNothingLeft(folder)
    }

    @Test("four --shard i/4 workers on one S3 archive: each drill ran exactly once, the chain is intact")
    func shards() async throws {
        let folder = TempFolder("fleet-shard")
        let config = try await Self.fleet(8, in: folder)
        let moto = try await MotoServer.shared.start()
        let bucket = await MotoServer.shared.newBucketName("shards")
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: [["op": "bucket", "bucket": bucket]])
        var env = moto.environment
        env["AWS_ENDPOINT_URL"] = moto.endpoint
        env["TMPDIR"] = folder.sub("scratch")
        let archive = "s3://\(bucket)/fleet/"
        let dir = config.directory, workerEnv = env
        let runs = try await withThrowingTaskGroup(of: DrillBinary.Run.self) { group in
            for i in 0..<4 {
                group.addTask {
                    try await DrillBinary.run(["run", "--all", "--shard", "\(i)/4", "--config", dir, "--archive", archive],
                                              environment: workerEnv, unset: ["PG*", "DRILL_*", "AWS_*"])
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for r in runs { #expect(r.exitCode == 0, "\(r.output)") }
        let verify = try await DrillBinary.run(["archive", "verify", "--config", config.directory, "--archive", archive],
                                               environment: env, unset: ["PG*", "DRILL_*", "AWS_*"])
        #expect(verify.exitCode == 0, "\(verify.output)")
        #expect(verify.stdout.contains("8 reports"), "\(verify.stdout)")
        let storage = try S3ArchiveStorage(location: archive, environment: env, retry: RetryPolicy(maxAttempts: 2),
                                           lockWait: .seconds(60), staleAfter: .seconds(600),
                                           logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let drills = try await ReportArchive(storage: storage).reports().reports.map(\.report.drill)
        #expect(drills.sorted() == (0..<8).map { "db\($0)" }.sorted(), "each drill exactly once: \(drills.sorted())")
        // The shards really split the work: no worker ran every drill.
        #expect(runs.allSatisfy { $0.stdout.components(separatedBy: "COMPLIANT").count - 1 < 8 }, "\(runs.map(\.stdout))")
        expectNothingLeft(folder)
    }
}
