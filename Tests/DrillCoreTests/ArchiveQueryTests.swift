import DrillCore
import DrillTesting
import Foundation
import Testing

/// An archive storage that counts what is read from it, over the in-memory one.
final class CountingStorage: ArchiveStorage, @unchecked Sendable {
    let inner = MemoryArchiveStorage()
    private let lock = NSLock()
    private var readPaths: [String] = []
    var location: String { "memory" }
    var reads: [String] { lock.withLock { readPaths } }
    func resetReads() { lock.withLock { readPaths = [] } }
    func list() async throws -> [String] { try await inner.list() }
    func read(_ path: String) async throws -> Data {
        lock.withLock { readPaths.append(path) }
        return try await inner.read(path)
    }
    func create(_ path: String, data: Data) async throws { try await inner.create(path, data: data) }
    func remove(_ path: String) async throws { try await inner.remove(path) }
    func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T { try await inner.withLock(body) }
}

@Suite("Archive queries: newest per drill, a period's reports, report paths")
struct ArchiveQueryTests {
    let d = ReportFixtures.date
    static let drills = ["shop", "billing", "wiki-eu", "ledger"]
    let config = ConfigFixtures.folder(tiers: [("gold", "@monthly")],
                                       drills: (drills + ["never-ran"]).map { ($0, "gold") })

    /// 12 monthly runs of four drills through 2026, appended in time order; `ledger` always fails, `shop`'s newest
    /// run is aborted and `billing`'s December run is failed.
    func makeArchive() async throws -> (CountingStorage, ReportArchive, [DrillReport]) {
        let storage = CountingStorage()
        let archive = ReportArchive(storage: storage, digest: ReportFixtures.sha256)
        var all: [DrillReport] = []
        for month in 1...12 {
            for (i, drill) in Self.drills.enumerated() {
                var status = DrillStatus.compliant
                if drill == "ledger" { status = .failed }
                if drill == "shop" && month == 12 { status = .aborted }
                if drill == "billing" && month == 12 { status = .failed }
                let at = d(String(format: "2026-%02d-0%dT03:00:00Z", month, i + 1))
                all.append(try await archive.append(ReportFixtures.report(drill: drill, tier: "gold", status: status, startedAt: at)).report)
            }
        }
        storage.resetReads()
        return (storage, archive, all)
    }

    @Test func reportPathsNameTheirDrillAndStart() {
        #expect(ReportPath.drill(ofPath: "2026/11/shop-20261128T073000Z.json") == "shop")
        #expect(ReportPath.drill(ofPath: "2026/11/db-0042-20261128T073000Z-2.json") == "db-0042")
        #expect(ReportPath.drill(ofPath: "2026/11/x-2-20261128T073000Z.json") == "x-2")
        #expect(ReportPath.drill(ofPath: "2026/11/shop-20261128T073000Z.md") == nil)
        #expect(ReportPath.drill(ofPath: "2026/11/notes.json") == nil)
        #expect(ReportPath.drill(ofPath: "2026/11/-20261128T073000Z.json") == nil)
        #expect(ReportPath.startedAt(ofPath: "2026/11/db-0042-20261128T073001Z-3.json") == d("2026-11-28T07:30:01Z"))
        #expect(ReportPath.months(overlapping: d("2025-11-15T00:00:00Z")..<d("2026-02-01T00:00:00Z"))
                == ["2025/11", "2025/12", "2026/01"])
        #expect(ReportPath.months(overlapping: d("2025-12-31T23:59:59Z")..<d("2026-01-01T00:00:01Z")) == ["2025/12", "2026/01"])
    }

    @Test func dueReadsOneCountedRunPerDrillFromTheChainEnd() async throws {
        let (storage, archive, all) = try await makeArchive()
        let now = d("2027-01-15T00:00:00Z")
        let newest = try await archive.newest(drills: Set(config.drills.map(\.name))) { $0.contains(where: countsAsRun) }
        #expect(dueDrills(config: config, reports: newest.all, now: now) == dueDrills(config: config, reports: all, now: now))
        // shop: its aborted December run, then November; the others: December only. "never-ran" has no file, so the
        // walk stops after the last five entries instead of reading all 48.
        #expect(newest.byDrill["shop"]?.map(\.status) == [.aborted, .compliant])
        #expect(newest.byDrill.keys.sorted() == Self.drills.sorted())
        #expect(newest.entriesRead <= 32 && newest.reportsRead == 5, "\(newest.entriesRead) entries, \(newest.reportsRead) reports")
        #expect(storage.reads.filter(ReportArchive.isReportPath).count == 5)
    }

    @Test func metricsFromTheNewestReportsEqualMetricsFromTheWholeArchive() async throws {
        let (_, archive, all) = try await makeArchive()
        let newest = try await archive.newest(drills: nil) { $0.contains { $0.status == .compliant } }
        #expect(PrometheusMetrics.render(reports: newest.all) == PrometheusMetrics.render(reports: all))
        // ledger never passed: the walk read every one of its reports to be sure.
        #expect(newest.byDrill["ledger"]?.count == 12)
        #expect(newest.byDrill["wiki-eu"]?.count == 1)
    }

    @Test func aTamperedNewestReportIsSkippedAndNamed() async throws {
        let (storage, archive, _) = try await makeArchive()
        let victim = try #require(try await storage.list().last { $0.hasPrefix("2026/12/billing-") && $0.hasSuffix(".json") })
        var text = String(decoding: try await storage.read(victim), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"failed\"", with: "\"compliant\"")
        await storage.inner.set(victim, Data(text.utf8))
        let newest = try await archive.newest(drills: ["billing"]) { $0.contains { $0.status == .compliant } }
        #expect(newest.skipped == [victim])
        #expect(newest.byDrill["billing"]?.first?.startedAt == d("2026-11-02T03:00:00Z"))
    }

    @Test func aPeriodReadsOnlyItsMonths() async throws {
        let (storage, archive, all) = try await makeArchive()
        let range = d("2026-03-01T00:00:00Z")..<d("2026-05-01T00:00:00Z")
        let got = try await archive.reports(in: range)
        #expect(got.unreadable.isEmpty)
        #expect(got.reports.map(\.report) == all.filter { range.contains($0.startedAt) })
        #expect(Set(storage.reads.map { String($0.prefix(7)) }) == ["2026/03", "2026/04"])
        storage.resetReads()
        let one = try await archive.reports(in: range, drill: "wiki-eu")
        #expect(one.reports.map(\.report.drill) == ["wiki-eu", "wiki-eu"])
        #expect(storage.reads.count == 2)
    }

    @Test func theAuditOfAPeriodEqualsTheAuditFromTheWholeArchive() async throws {
        let (_, archive, all) = try await makeArchive()
        // A year after the runs stopped: every drill is owed every month of 2027 up to now, none "never ran" except
        // the one with no report at all.
        let range = AuditRange.period("2027")!
        let now = d("2027-06-15T00:00:00Z")
        let chain = try await archive.verify()
        let period = try await archive.reports(in: range.range).reports.map(\.report)
        let firstRuns = try await archive.firstRuns()
        #expect(firstRuns["shop"] == d("2026-01-01T03:00:00Z"))
        let fast = AuditReport.build(reports: period, config: config, chain: chain, range: range, now: now,
                                     archiveLocation: "m", firstRuns: firstRuns)
        let full = AuditReport.build(reports: all, config: config, chain: chain, range: range, now: now, archiveLocation: "m")
        #expect(period.isEmpty)
        #expect(fast.problems.map(\.detail) == full.problems.map(\.detail))
        #expect(fast.problems.filter { $0.kind == .missed }.count == 4 * 5 + 1)
        #expect(AuditMarkdown.render(fast) == AuditMarkdown.render(full))
    }

    @Test func previousDigestIsReadWithoutAJSONParseAndFallsBackWhenInDoubt() throws {
        var r = ReportFixtures.report()
        let hex = String(repeating: "ab", count: 32)
        r.previousSHA256 = hex
        #expect(ChainVerifier.previousDigest(in: try r.jsonData()) == .some(hex))
        #expect(ChainVerifier.quickPreviousDigest(in: try r.jsonData()) == .some(hex))
        r.previousSHA256 = nil
        #expect(ChainVerifier.previousDigest(in: try r.jsonData()) == .some(nil))
        // The key's text inside a value is escaped, so it is not taken for the key.
        r.findings = [#"a finding quoting "previous_sha256" : "ff""#]
        r.previousSHA256 = hex
        #expect(ChainVerifier.quickPreviousDigest(in: try r.jsonData()) == .some(hex))
        // Twice at the top level (a hand-made file): the JSON parser decides.
        let doubled = Data(#"{"previous_sha256": "\#(hex)", "x": {"previous_sha256": null}}"#.utf8)
        #expect(ChainVerifier.quickPreviousDigest(in: doubled) == nil)
        #expect(ChainVerifier.previousDigest(in: doubled) == .some(hex))
        #expect(ChainVerifier.previousDigest(in: Data("not json".utf8)) == nil)
    }
}
