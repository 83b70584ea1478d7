import DrillCore
import Foundation
import Testing

@Suite("Config parsing")
struct ConfigTests {
    let tiers: [String: TierConfig] = ["critical": TierConfig(name: "critical", rto: .init(seconds: 3600), rpo: .init(seconds: 300))]

    func parse(_ json: String) throws -> (DrillConfig?, [String]) {
        let r = ConfigReader(file: "drills/x.json")
        let d = DrillConfig.parse(try JSONValue.parse(Data(json.utf8)), name: "x", file: "drills/x.json", tiers: tiers, reader: r)
        return (d, r.issues.map(\.description))
    }

    @Test func fullDrillParses() throws {
        let (d, issues) = try parse("""
            { "version": 1, "tier": "critical",
              "backup": { "location": "/srv/b", "pattern": "shop-*.dump", "format": "custom", "verify": "required" },
              "target": { "kind": "server", "url": "postgresql://u@h/postgres" },
              "restore": { "jobs": 4, "profile": "fast" },
              "checks": [ { "name": "a", "sql": "SELECT 1", "expect": { "min": 1, "max": 2 } },
                          { "name": "b", "sql": "SELECT now()", "expect": { "within": "rpo" }, "timeout": "30s" },
                          { "name": "c", "sql": "SELECT 1", "expect": { "rows": { "min": 1, "max": 1 }, "matches": "^1$" } } ] }
            """)
        #expect(issues.isEmpty)
        let drill = try #require(d)
        #expect(drill.target == .server(url: "postgresql://u@h/postgres"))
        #expect(drill.restore == RestoreConfig(jobs: 4, profile: .fast))
        #expect(drill.backup.verify == .required)
        #expect(drill.checks[1].expect.within == .rpo)
        #expect(drill.checks[1].timeout.seconds == 30)
        #expect(drill.checks[2].expect.rowsMin == 1)
    }

    @Test func defaults() throws {
        let (d, issues) = try parse(#"{ "version": 1, "tier": "critical", "backup": { "location": "/b" } }"#)
        #expect(issues.isEmpty)
        #expect(d?.target == .embedded)
        #expect(d?.restore == RestoreConfig(jobs: nil, profile: .durable))
        #expect(d?.backup.format == .auto)
    }

    @Test func everyProblemIsListedWithItsKeyPath() throws {
        let (_, issues) = try parse("""
            { "version": 3, "tier": "gold", "extra": 1,
              "backup": { "location": "ftp://x", "format": "zip" },
              "target": { "kind": "cloud" },
              "restore": { "jobs": 0, "profile": "slow" },
              "checks": [ { "name": "a", "sql": "", "expect": {} }, { "name": "a", "sql": "SELECT 1", "expect": { "within": "later", "matches": "(" } }, 7 ] }
            """)
        let expected = [
            "drills/x.json: version: unsupported version 3",
            "drills/x.json: tier: unknown tier \"gold\"",
            "drills/x.json: extra: unknown key",
            "drills/x.json: backup.location: unsupported scheme \"ftp\"",
            "drills/x.json: backup.format: \"zip\" is not one of",
            "drills/x.json: target.kind: \"cloud\" is not one of: embedded, server",
            "drills/x.json: restore.jobs: expected a whole number from 1 to 64, found 0",
            "drills/x.json: restore.profile: \"slow\" is not one of: durable, fast",
            "drills/x.json: checks[0].sql: must not be empty",
            "drills/x.json: checks[0].expect: give at least one of",
            "drills/x.json: checks[1].name: duplicate check name \"a\"",
            "drills/x.json: checks[1].expect.within: expected \"rpo\" or a duration",
            "drills/x.json: checks[1].expect.matches: not a valid regular expression",
            "drills/x.json: checks[2]: expected an object, found a number",
        ]
        for e in expected { #expect(issues.contains { $0.hasPrefix(e) }, "missing: \(e)\nin: \(issues)") }
    }

    @Test func wrongTypes() throws {
        let (_, issues) = try parse(#"{ "version": 1, "tier": 5, "backup": [], "checks": {} }"#)
        #expect(issues.contains("drills/x.json: tier: expected a string, found a number"))
        #expect(issues.contains("drills/x.json: backup: expected an object, found an array"))
        #expect(issues.contains("drills/x.json: checks: expected an array, found an object"))
    }

    @Test func tiersFile() throws {
        let r = ConfigReader(file: "tiers.json")
        let t = TiersFile.parse(try JSONValue.parse(Data("""
            { "version": 1, "tiers": { "critical": { "rto": "1h", "rpo": "5m" }, "bad": { "rto": "soon", "rpo": "5m", "schedule": "sometimes" } } }
            """.utf8)), reader: r)
        #expect(t?.tiers["critical"]?.rpo.seconds == 300)
        #expect(t?.tiers["critical"]?.schedule == "@monthly")
        #expect(r.issues.map(\.description).contains { $0.hasPrefix("tiers.json: tiers.bad.rto: not a duration") })
        #expect(r.issues.map(\.description).contains { $0.hasPrefix("tiers.json: tiers.bad.schedule:") })
    }

    @Test func selectsTiersAndDrills() throws {
        let tiers = TiersFile(tiers: ["critical": tiers["critical"]!, "standard": TierConfig(name: "standard", rto: .init(seconds: 1), rpo: .init(seconds: 1))])
        let a = DrillConfig(name: "a", tier: "critical", backup: .init(location: "/a"))
        let b = DrillConfig(name: "b", tier: "standard", backup: .init(location: "/b"))
        let c = DrillConfig(name: "c", tier: "critical", backup: .init(location: "/c"))
        let folder = ConfigFolder(directory: "/cfg", tiers: tiers, drills: [a, b, c])
        #expect(try folder.select(["critical"]).map(\.name) == ["a", "c"])
        #expect(try folder.select(["b", "critical", "a"]).map(\.name) == ["b", "a", "c"])
        #expect(throws: ConfigErrors.self) { try folder.select(["nope"]) }
    }
}

@Suite("Config validation of hardening keys")
struct HardeningConfigTests {
    let tiers: [String: TierConfig] = ["critical": TierConfig(name: "critical", rto: .init(seconds: 3600), rpo: .init(seconds: 300))]

    func issues(_ json: String) throws -> [String] {
        let r = ConfigReader(file: "drills/x.json")
        _ = DrillConfig.parse(try JSONValue.parse(Data(json.utf8)), name: "x", file: "drills/x.json", tiers: tiers, reader: r)
        return r.issues.map(\.description)
    }

    @Test("checks[].timeout must be within PostgreSQL's statement_timeout range", arguments: [
        ("0s", false), ("1s", true), ("24d20h31m23s", true), ("24d20h31m24s", false), ("30d", false),
    ])
    func checkTimeout(_ timeout: String, _ ok: Bool) throws {
        let found = try issues(#"{ "version": 1, "tier": "critical", "backup": { "location": "/b" }, "checks": [ { "name": "a", "sql": "SELECT 1", "expect": { "min": 1 }, "timeout": "\#(timeout)" } ] }"#)
        if ok {
            #expect(found.isEmpty, "\(found)")
        } else {
            #expect(found == ["drills/x.json: checks[0].timeout: \(timeout) is outside PostgreSQL's statement_timeout range, "
                + "1 ms to 2147483647 ms (1s to 24d20h31m23s here)"], "\(found)")
        }
    }

    @Test("backup.settle and restore.timeout are durations; restore.timeout is at least 1s")
    func settleAndTimeout() throws {
        let r = ConfigReader(file: "drills/x.json")
        let d = DrillConfig.parse(try JSONValue.parse(Data(#"{ "version": 1, "tier": "critical", "backup": { "location": "/b", "settle": "2m" }, "restore": { "timeout": "90m" } }"#.utf8)),
                                  name: "x", file: "drills/x.json", tiers: tiers, reader: r)
        #expect(r.issues.isEmpty)
        #expect(d?.backup.settle == DrillDuration(seconds: 120))
        #expect(d?.restore.timeout == DrillDuration(seconds: 5400))
        #expect(try issues(#"{ "version": 1, "tier": "critical", "backup": { "location": "/b" } }"#).isEmpty)
        #expect(try issues(#"{ "version": 1, "tier": "critical", "backup": { "location": "/b", "settle": "soon" } }"#)
            .contains { $0.hasPrefix("drills/x.json: backup.settle: not a duration") })
        #expect(try issues(#"{ "version": 1, "tier": "critical", "backup": { "location": "/b" }, "restore": { "timeout": "0s" } }"#)
            == ["drills/x.json: restore.timeout: must be at least 1s"])
    }
}
