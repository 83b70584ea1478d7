import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Logging
import Testing

/// A shared shop database (pgbench scale 1 + 1,000 orders), created once per test process.
actor Shop {
    static let shared = Shop()
    static let orders = 1000
    private var created: Task<Void, any Error>?
    private var dumps: [BackupFormat: Task<String, any Error>] = [:]
    private let folder: TempFolder = {
        let f = TempFolder("dumps")
        ExitCleanup.register(pid: nil, paths: [f.path])  // a shared fixture lives until the test process exits
        return f
    }()

    func database() async throws -> String {
        if created == nil { created = Task { try await SourceDatabase.shared.createShop("shop", orders: Self.orders) } }
        try await created!.value
        return "shop"
    }

    /// A fresh pg_dump of the shop in `format`, made once and shared (tests copy it before changing it).
    func dump(_ format: BackupFormat) async throws -> String {
        if dumps[format] == nil {
            let folder = self.folder
            dumps[format] = Task { try await Self.make(format, in: folder) }
        }
        return try await dumps[format]!.value
    }

    private static func make(_ format: BackupFormat, in folder: TempFolder) async throws -> String {
        let db = try await Shop.shared.database()
        let name = switch format {
        case .custom: "shop.dump"
        case .directory: "shop.dir"
        case .tar: "shop.tar"
        case .plain: "shop.sql"
        case .plainGzip: "shop.sql.gz"
        case .basebackup: "base"
        case .dumpall: "cluster.sql"
        case .encoded: "shop.enc"
        }
        let path = folder.file(name)
        try await SourceDatabase.shared.dump(db, to: path, format: format)
        return path
    }
}

/// Runs one drill in-process with the live dependencies, scratch clusters under `folder/scratch`.
func runDrill(_ json: String, name: String = "shop", in folder: TempFolder, keep: Bool = false,
              serverDatabaseName: (@Sendable (String, Date) -> String)? = nil) async throws -> DrillReport {
    let config = try ConfigFixture(in: folder, drills: [name: json]).load()
    let deps = await LiveDependencies.make(scratchRoot: folder.sub("scratch"), drillVersion: "test",
                                           logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }), serverDatabaseName: serverDatabaseName)
    let drill = try #require(config.drills.first)
    return await DrillRunner(deps: deps, clock: ContinuousClock()).run(drill, tier: config.tier(of: drill), keep: keep)
}

/// Nothing of a drill may remain: no scratch folder, no server process.
func expectNothingLeft(_ folder: TempFolder, sourceLocation: SourceLocation = #_sourceLocation) {
    let scratch = folder.sub("scratch")
    #expect(Leftovers.scratchEntries(in: scratch).isEmpty, "scratch folders left: \(Leftovers.scratchEntries(in: scratch))",
            sourceLocation: sourceLocation)
    #expect(Leftovers.postgresProcesses(under: scratch).isEmpty, "scratch servers still running", sourceLocation: sourceLocation)
}

/// Copies a file or folder into `dir` under `name`.
func copy(_ path: String, into dir: String, as name: String) throws -> String {
    let dest = (dir as NSString).appendingPathComponent(name)
    try FileManager.default.copyItem(atPath: path, toPath: dest)
    return dest
}

/// Sets a file's modification time.
func setModified(_ path: String, _ date: Date) throws {
    try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: path)
}

/// WAL fetching overlapped replay: the `wal_fetch` and `wal_replay` phases' times intersect. Load-proof with a WAL
/// window smaller than a segment (`wal.window_mib: 1`) and two segments or more: the second segment is fetched only
/// after the running server took the first.
func expectWALFetchOverlapsReplay(_ report: DrillReport, sourceLocation: SourceLocation = #_sourceLocation) {
    let fetch = report.phases.first { $0.name == "wal_fetch" }
    let replay = report.phases.first { $0.name == "wal_replay" }
    guard let fetch, let replay else {
        Issue.record("no wal_fetch and wal_replay phases: \(report.phases.map(\.name))", sourceLocation: sourceLocation)
        return
    }
    let fetchEnd = fetch.startOffsetSeconds + fetch.seconds
    #expect(fetch.startOffsetSeconds <= replay.startOffsetSeconds && fetchEnd > replay.startOffsetSeconds,
            "wal_fetch \(fetch.startOffsetSeconds)…\(fetchEnd) s, wal_replay from \(replay.startOffsetSeconds) s", sourceLocation: sourceLocation)
}

/// Without a terminal (and `DRILL_PROGRESS_SECONDS=0`), the replay's progress is printed as timestamped lines
/// `wal_replay: 16.0 MiB of 48.0 MiB (33%)…`: returns them.
@discardableResult
func expectReplayProgressLines(_ stderr: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
    let lines = stderr.split(separator: "\n").map(String.init).filter {
        $0.contains(": wal_replay: ") && $0.range(of: #"[0-9.]+ [KMG]iB of [0-9.]+ [KMG]iB \([0-9]+%\)"#, options: .regularExpression) != nil
    }
    #expect(!lines.isEmpty, "no replay progress line in: \(stderr.suffix(3000))", sourceLocation: sourceLocation)
    return lines
}

/// A WAL file the archive listed could not be fetched while replay was already running: the drill failed with
/// `wal_gap` naming it (`firstMissing`: the method's evidence), and replay ended at the latest where that segment begins
/// (`replayedTo`): nothing of it or after it was replayed.
func expectGapDuringReplay(_ report: DrillReport, missing: String, firstMissing: String?, replayedTo: String?,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(report.status == .failed, sourceLocation: sourceLocation)
    #expect(report.failureCode == "wal_gap", sourceLocation: sourceLocation)
    #expect(firstMissing == missing, sourceLocation: sourceLocation)
    #expect(report.findings.contains { $0.contains(missing) && $0.contains("replay stopped before it") }, "findings: \(report.findings)",
            sourceLocation: sourceLocation)
    #expect(report.phases.contains { $0.name == "wal_replay" }, "replay was running when the segment failed", sourceLocation: sourceLocation)
    #expect(report.phases.contains { $0.name == "wal_fetch" && !$0.ok }, sourceLocation: sourceLocation)
    guard let replayed = replayedTo.flatMap(LSN.init), let segment = WALSegment(name: missing) else {
        Issue.record("no replay position (\(replayedTo ?? "nil")) or not a segment name (\(missing))", sourceLocation: sourceLocation)
        return
    }
    let missingStart = segment.number * WALSegment.defaultSize
    #expect(replayed.value <= missingStart, "replayed to \(replayed), the missing segment starts at \(LSN(missingStart))",
            sourceLocation: sourceLocation)
}

/// Prints a report's phases (start offset, seconds, bytes) on one line: the figures a run leaves in the test log.
func printPhases(_ label: String, _ report: DrillReport) {
    let phases = report.phases.map { p in
        "\(p.name) \(String(format: "%.2f", p.startOffsetSeconds))+\(String(format: "%.2f", p.seconds))s" + (p.bytes.map { " \($0 >> 20) MiB" } ?? "")
    }
    print("\(label): RTO \(report.measured.rtoSeconds.map { String(format: "%.2f", $0) } ?? "-") s; " + phases.joined(separator: ", "))
}
