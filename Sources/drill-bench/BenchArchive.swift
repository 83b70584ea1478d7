import DrillCore
import DrillLive
import Foundation

/// `drill-bench make-archive DIR --template REPORT.json [--drills 400] [--months 50] [--until 2026-12-01]`
///
/// Generates an audit archive of `drills × months` reports, one run per drill per month, laid out and chained exactly
/// as `ReportArchive.append` lays them out (the same stem, JSON encoder, Markdown rendering and chain entry format),
/// but written directly: appending 20,000 reports one by one would take the benchmark longer than what it measures.
/// Also writes a config folder (`DIR-config/tiers.json` and one drill file per drill) for `due`, `plan` and `report`.
/// Roughly 1 run in 25 failed and 1 in 50 aborted, so that the commands' "newest counted run" logic has work to do.
enum BenchArchive {
    static func main(_ arguments: [String]) async {
        var args = arguments
        guard let dir = args.first, !dir.hasPrefix("--") else { usage() }
        args.removeFirst()
        var options: [String: String] = [:]
        while let flag = args.first, flag.hasPrefix("--"), args.count >= 2 {
            options[String(flag.dropFirst(2))] = args[1]
            args.removeFirst(2)
        }
        guard args.isEmpty, let template = options["template"] else { usage() }
        let drills = Int(options["drills"] ?? "400") ?? 400
        let months = Int(options["months"] ?? "50") ?? 50
        do {
            let until = try options["until"].map { s -> Date in
                guard let d = RFC3339.parse(s + (s.count == 10 ? "T00:00:00Z" : "")) else { throw DrillError(.configuration, "--until \(s)") }
                return d
            } ?? Date()
            let t0 = ContinuousClock.now
            let n = try generate(into: dir, template: template, drills: drills, months: months, until: until)
            let c = (ContinuousClock.now - t0).components
            print(String(format: "wrote %d reports (%d drills x %d months) into %@ in %.1f s", n, drills, months, dir,
                         Double(c.seconds) + Double(c.attoseconds) / 1e18))
        } catch {
            FileHandle.standardError.write(Data("drill-bench: \(error)\n".utf8))
            exit(3)
        }
    }

    static let tiers = ["critical", "important", "standard"]

    static func generate(into dir: String, template: String, drills: Int, months: Int, until: Date) throws -> Int {
        guard let data = FileManager.default.contents(atPath: template) else { throw DrillError(.configuration, "cannot read \(template)") }
        let base = try DrillReport.decoder().decode(DrillReport.self, from: data)
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let firstOfMonth = cal.date(from: cal.dateComponents([.year, .month], from: until))!
        var reports: [DrillReport] = []
        reports.reserveCapacity(drills * months)
        var rng = SplitMix(seed: 42)
        for m in stride(from: months, through: 1, by: -1) {
            let monthStart = cal.date(byAdding: .month, value: -m, to: firstOfMonth)!
            for d in 0..<drills {
                var r = base
                r.drill = String(format: "db-%04d", d)
                r.tier = tiers[d % tiers.count]
                // Spread over the month's first days, as a monthly schedule with --parallel would.
                r.startedAt = monthStart.addingTimeInterval(Double(d * 97 % 86_400 * 3) + Double(rng.next() % 600))
                let rto = 30 + Double(rng.next() % 600)
                r.finishedAt = r.startedAt.addingTimeInterval(rto + 5)
                r.measured.rtoSeconds = rto
                r.measured.rpoSeconds = Double(60 + rng.next() % 86_000)
                switch rng.next() % 50 {
                case 0: r.status = .aborted
                case 1, 2: r.status = .failed
                default: r.status = .compliant
                }
                reports.append(r)
            }
        }
        reports.sort { $0.startedAt < $1.startedAt }
        let root = (dir as NSString).expandingTildeInPath
        let fm = FileManager.default
        var previous: String?
        for (i, var r) in reports.enumerated() {
            r.previousSHA256 = previous
            let stem = ReportArchive.stem(for: r)
            let json = try r.jsonData()
            let markdown = Data(MarkdownReport.render(r).utf8)
            let entry = ChainEntry(sequence: i + 1, jsonPath: stem + ".json", jsonSHA256: SHA256Hasher.hex(of: json),
                                   markdownPath: stem + ".md", markdownSHA256: SHA256Hasher.hex(of: markdown))
            let folder = (root as NSString).appendingPathComponent((stem as NSString).deletingLastPathComponent)
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: (root as NSString).appendingPathComponent(ChainEntry.folder), withIntermediateDirectories: true)
            try json.write(to: URL(fileURLWithPath: (root as NSString).appendingPathComponent(stem + ".json")))
            try markdown.write(to: URL(fileURLWithPath: (root as NSString).appendingPathComponent(stem + ".md")))
            try Data(entry.text().utf8).write(to: URL(fileURLWithPath: (root as NSString).appendingPathComponent(entry.path)))
            previous = entry.jsonSHA256
        }
        try writeConfig(root + "-config", drills: drills)
        return reports.count
    }

    /// tiers.json with monthly schedules and one dump drill per generated name (their backups do not exist: `plan`
    /// then lists each drill's "backup not found", which still costs what reading the archive costs).
    static func writeConfig(_ dir: String, drills: Int) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/drills", withIntermediateDirectories: true)
        try Data("""
            { "version": 1, "tiers": {
              "critical": { "rto": "1h", "rpo": "5m", "schedule": "@monthly" },
              "important": { "rto": "4h", "rpo": "1h", "schedule": "@monthly" },
              "standard": { "rto": "24h", "rpo": "24h", "schedule": "@monthly" } } }

            """.utf8).write(to: URL(fileURLWithPath: dir + "/tiers.json"))
        for d in 0..<drills {
            let name = String(format: "db-%04d", d)
            try Data("""
                { "version": 1, "tier": "\(tiers[d % tiers.count])",
                  "backup": { "location": "\(dir)/backups/\(name)", "pattern": "*.dump" },
                  "checks": [ { "name": "rows", "sql": "SELECT 1", "expect": { "equals": 1 } } ] }

                """.utf8).write(to: URL(fileURLWithPath: "\(dir)/drills/\(name).json"))
        }
    }

    static func usage() -> Never {
        FileHandle.standardError.write(Data("usage: drill-bench make-archive DIR --template REPORT.json [--drills N] [--months N] [--until YYYY-MM-DD]\n".utf8))
        exit(2)
    }
}

/// A small deterministic generator, so that two runs of the benchmark generate the same archive.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
