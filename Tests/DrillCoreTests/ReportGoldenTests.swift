import DrillCore
import Foundation
import Testing

/// One golden JSON report per method: the exact bytes the archive stores, so a field that stops being written (as
/// `wal` and `failure_code` once were) fails here. Set UPDATE_GOLDEN=1 to rewrite them after an intended change.
@Suite("Reports: golden JSON per method")
struct ReportGoldenTests {
    static func dump() -> DrillReport {
        var r = ReportTests.sample()
        r.method = .dump
        // An expectation check with Great Expectations' result fields (docs/checks.md).
        var e = DrillReport.Check(name: "email format", sql: #"SELECT count(*), count("email"), count(*) FILTER (WHERE "email" IS NOT NULL AND (NOT ("email"::text ~ $1))) FROM "public"."users""#,
                                  expected: "expect_column_values_to_match_regex(email) on public.users: regex @, mostly 0.99",
                                  passed: false, seconds: 0.01)
        ExpectationResult(success: false, elementCount: 10, unexpectedCount: 1, unexpectedPercent: 12.5, missingCount: 2,
                          partialUnexpectedList: [.string("not-an-email")], reason: "1 of 8 non-NULL values unexpected").record(into: &e)
        e.expectation = "expect_column_values_to_match_regex"
        r.checks.append(e)
        r.postgres = choice(VersionNeed(version: PostgresVersion(major: 15, minor: 18), rule: .atLeast, source: "archive header",
                                        compression: .gzip))
        return r
    }

    static func choice(_ need: VersionNeed) -> PostgresChoice {
        let pg15 = PostgresInstallation(directory: "/usr/lib/postgresql/15/bin", version: PostgresVersion(major: 15, minor: 18), origin: "/usr/lib/postgresql",
                                        compression: CompressionSupport(algorithms: [.gzip], source: "pg_config --configure"))
        let pg18 = PostgresInstallation(directory: "/opt/pg18/bin", version: PostgresVersion(major: 18, minor: 6), origin: "PATH")
        return PostgresChoice(need: need, chosen: need.version.major == 18 ? pg18 : pg15,
                              inventory: PostgresInventory(installations: [pg18, pg15], searched: "PATH, /usr/lib/postgresql/*/bin"))
    }

    static func dumpall() -> DrillReport {
        var r = dump()
        r.backup.format = "dumpall"
        r.restore.tool = "psql (pg_dumpall)"
        r.restore.databases = [.init(name: "postgres", sizeBytes: 7_545_347), .init(name: "shop", sizeBytes: 9_012_224)]
        r.postgres?.compression = nil  // a plain cluster dump: no archive header, no pg_dump compression
        r.postgres?.compressionSupport = nil
        return r
    }

    static func incremental() -> DrillReport {
        var r = basebackup()
        r.postgres = choice(VersionNeed(version: PostgresVersion(major: 18), rule: .sameMajor, source: "PG_VERSION"))
        r.wal?.incrementalChain = ["full", "incr1", "incr2"]
        r.phases.insert(.init(name: "combine", startOffsetSeconds: 0.5, seconds: 0.5, ok: true), at: 1)
        return r
    }

    static func basebackup() -> DrillReport {
        var r = ReportTests.sample()
        r.method = .basebackup
        r.status = .compliant
        r.findings = []
        r.backup = .init(uri: "/srv/base/base-20261128", name: "base-20261128", format: "basebackup", sizeBytes: 52_428_800,
                         sha256: String(repeating: "ab", count: 32), sidecar: "absent",
                         modifiedAt: r.startedAt.addingTimeInterval(-7200))
        r.measured.recoveryPointSource = "wal_replay"
        r.restore = .init(jobs: 1, profile: .durable, mode: "file", tool: "postgres (archive recovery)", toolVersion: "15.18")
        r.phases = ["fetch", "provision", "extract", "verify", "wal_fetch", "wal_replay", "checks"].enumerated().map {
            .init(name: $0.element, startOffsetSeconds: Double($0.offset), seconds: 1, ok: true)
        }
        var wal = DrillReport.WAL(location: "/srv/wal", target: "latest", segmentsFetched: 3, bytesFetched: 50_331_648)
        wal.startSegment = "000000010000000000000002"
        wal.verifiedWith = "pg_verifybackup 15.18"
        wal.backupEndAt = r.startedAt.addingTimeInterval(-7100)
        wal.backupEndSource = "backup_history_file"
        wal.newestSegment = "000000010000000000000004"
        wal.newestSegmentAt = r.startedAt.addingTimeInterval(-420)
        wal.replayedTo = "0/4000060"
        wal.timeline = 2
        r.wal = wal
        return r
    }

    static func failed() -> DrillReport {
        var r = basebackup()
        r.status = .failed
        r.failureCode = DrillError.Code.walGap.rawValue
        r.measured = .init()
        r.checks = []
        r.findings = ["The WAL archive has a gap: 000000010000000000000003 is missing."]
        r.wal?.firstMissingSegment = "000000010000000000000003"
        return r
    }

    @Test(arguments: [("dump", dump()), ("basebackup", basebackup()), ("basebackup-failed", failed()), ("dumpall", dumpall()),
                      ("basebackup-incremental", incremental())])
    func jsonMatchesGoldenAndDecodesBack(name: String, report: DrillReport) throws {
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/report-\(name).json")
        let data = try report.jsonData()
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" { try data.write(to: golden) }
        let stored = try Data(contentsOf: golden)
        #expect(String(decoding: data, as: UTF8.self) == String(decoding: stored, as: UTF8.self))
        let decoded = try DrillReport.decoder().decode(DrillReport.self, from: stored)
        #expect(decoded == report)
        #expect(decoded.method == report.method)
    }

    @Test func methodEvidenceAndFailureCodeAreWritten() throws {
        let text = String(decoding: try Self.failed().jsonData(), as: UTF8.self)
        for key in ["\"method\" : \"basebackup\"", "\"failure_code\" : \"wal_gap\"", "\"wal\" : {", "\"first_missing_segment\""] {
            #expect(text.contains(key), "missing \(key)")
        }
    }

    @Test func aReportWrittenBeforeMethodsExistedStillDecodes() throws {
        var old = try JSONSerialization.jsonObject(with: try Self.dump().jsonData()) as! [String: Any]
        old.removeValue(forKey: "method")
        let decoded = try DrillReport.decoder().decode(DrillReport.self, from: try JSONSerialization.data(withJSONObject: old))
        #expect(decoded.method == nil)
        #expect(decoded.drill == "shop")
    }
}
