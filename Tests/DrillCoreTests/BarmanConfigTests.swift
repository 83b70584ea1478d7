import DrillCore
import Foundation
import Testing

@Suite("barman and barman-cloud drill files")
struct BarmanConfigTests {
    let tiers: [String: TierConfig] = ["critical": TierConfig(name: "critical", rto: .init(seconds: 3600), rpo: .init(seconds: 300))]

    func parse(_ json: String) throws -> (DrillConfig?, [String]) {
        let r = ConfigReader(file: "drills/x.json")
        let d = DrillConfig.parse(try JSONValue.parse(Data(json.utf8)), name: "x", file: "drills/x.json", tiers: tiers, reader: r)
        return (d, r.issues.map(\.description))
    }

    @Test func barmanCloudParses() throws {
        let (d, issues) = try parse("""
            { "version": 1, "tier": "critical",
              "backup": { "kind": "barman-cloud", "location": "s3://acme-pg/barman/", "server": "prod",
                          "endpoint": "https://minio.internal:9000", "region": "eu-west-3" },
              "recovery": { "target": "latest" }, "database": "shop" }
            """)
        #expect(issues.isEmpty, "\(issues)")
        let drill = try #require(d)
        #expect(drill.method == .barmanCloud)
        let s = try #require(drill.settings as? BarmanCloudSettings)
        #expect(s == BarmanCloudSettings(location: "s3://acme-pg/barman", server: "prod", endpoint: "https://minio.internal:9000",
                                         region: "eu-west-3"))
        #expect(s.location == "s3://acme-pg/barman", "the trailing slash is dropped: the tools join location and server")
        #expect(s.bucket == "acme-pg")
        #expect(s.walPrefix == "s3://acme-pg/barman/prod/wals/")
        #expect(s.backupPrefix("20261201T210451") == "s3://acme-pg/barman/prod/base/20261201T210451/")
        #expect(drill.backup.location == "s3://acme-pg/barman server prod", "a method without files shows its source line")
        #expect(!s.supportsServerTarget)
    }

    @Test func barmanParses() throws {
        let (d, issues) = try parse("""
            { "version": 1, "tier": "critical", "backup": { "kind": "barman", "server": "pg-main", "config": "barman/barman.conf" } }
            """)
        #expect(issues.isEmpty, "\(issues)")
        let s = try #require(d?.settings as? BarmanSettings)
        #expect(s == BarmanSettings(server: "pg-main", config: "barman/barman.conf"))
        let resolved = try #require(s.resolvingPaths { "/etc/drill/" + $0 } as? BarmanSettings)
        #expect(resolved.config == "/etc/drill/barman/barman.conf")
        let (d2, issues2) = try parse(#"{ "version": 1, "tier": "critical", "backup": { "kind": "barman", "server": "pg" } }"#)
        #expect(issues2.isEmpty)
        #expect((d2?.settings as? BarmanSettings)?.config == nil)
    }

    @Test("wal.connections and wal.window_mib tune the WAL delivery of pgbackrest, barman and barman-cloud drills; nothing else goes in their wal object")
    func walTuning() throws {
        let backups = [
            #""kind": "pgbackrest", "stanza": "prod""#,
            #""kind": "barman", "server": "pg""#,
            #""kind": "barman-cloud", "location": "s3://b/barman", "server": "pg""#,
        ]
        func tuning(_ d: DrillConfig?) -> WALTuning? {
            switch d?.settings {
            case let s as PgBackRestSettings: s.wal
            case let s as BarmanSettings: s.wal
            case let s as BarmanCloudSettings: s.wal
            default: nil
            }
        }
        for backup in backups {
            let (d, issues) = try parse(#"{ "version": 1, "tier": "critical", "backup": { \#(backup) }, "wal": { "connections": 8, "window_mib": 64 } }"#)
            #expect(issues.isEmpty, "\(issues)")
            #expect(tuning(d) == WALTuning(connections: 8, windowBytes: 64 << 20), "\(backup)")
            let (plain, _) = try parse(#"{ "version": 1, "tier": "critical", "backup": { \#(backup) } }"#)
            #expect(tuning(plain) == WALTuning(connections: 4, windowBytes: 1 << 30), "defaults: \(backup)")
            let (_, bad) = try parse(#"{ "version": 1, "tier": "critical", "backup": { \#(backup) }, "wal": { "connections": 0, "window_mib": "big", "location": "/srv/wal" } }"#)
            #expect(bad.count == 3, "\(bad)")
            #expect(bad.contains { $0.contains("wal.connections: expected a whole number from 1 to 64") }, "\(bad)")
            #expect(bad.contains { $0.contains("wal.window_mib: expected a whole number") }, "\(bad)")
            #expect(bad.contains { $0.contains("wal.location: unknown key") && $0.contains("takes only connections and window_mib") }, "\(bad)")
            let (_, notObject) = try parse(#"{ "version": 1, "tier": "critical", "backup": { \#(backup) }, "wal": 4 }"#)
            #expect(notObject.contains { $0.contains("wal: expected an object") }, "\(notObject)")
        }
    }

    @Test func problemsNameTheKey() throws {
        let (_, issues) = try parse("""
            { "version": 1, "tier": "critical",
              "backup": { "kind": "barman-cloud", "location": "/srv/barman", "server": "all", "endpoint": "minio:9000", "pattern": "*" },
              "wal": { "location": "/srv/wal" } }
            """)
        let expected = [
            "backup.pattern: unknown key (allowed here: endpoint, kind, location, region, server)",
            "backup.location: a barman-cloud location is an S3 URL, s3://bucket/prefix",
            "backup.server: expected a Barman server name",
            "backup.endpoint: must be an http:// or https:// URL without credentials",
            "wal.location: unknown key: a barman-cloud drill's WAL comes from its catalogue, so its wal object takes only connections and window_mib",
        ]
        for e in expected { #expect(issues.contains { $0.contains(e) }, "missing \(e) in \(issues)") }
        #expect(issues.count == expected.count, "\(issues)")

        let (_, missing) = try parse(#"{ "version": 1, "tier": "critical", "backup": { "kind": "barman" } }"#)
        #expect(missing == ["drills/x.json: backup.server: missing required key"])
        let (_, bucketless) = try parse(#"{ "version": 1, "tier": "critical", "backup": { "kind": "barman-cloud", "location": "s3:///x", "server": "p" } }"#)
        #expect(bucketless.contains { $0.contains("backup.location: expected s3://bucket/prefix") }, "\(bucketless)")
        let (_, server) = try parse(#"{ "version": 1, "tier": "critical", "backup": { "kind": "barman", "server": "p" }, "target": { "kind": "server", "url": "postgresql://h/db" } }"#)
        #expect(server.contains { $0.contains("target.kind: a barman drill restores into a private scratch cluster") }, "\(server)")
    }

    @Test("a credential in the drill file is refused, naming the key and pointing at the AWS conventions",
          arguments: ["aws_secret_access_key", "secret_access_key", "access_key_id", "session_token", "password", "credentials"])
    func secretsRefused(key: String) throws {
        let (_, issues) = try parse("""
            { "version": 1, "tier": "critical",
              "backup": { "kind": "barman-cloud", "location": "s3://b/p", "server": "prod", "\(key)": "hunter2" } }
            """)
        #expect(issues.count == 1, "\(issues)")
        #expect(issues.first?.contains("backup.\(key): credentials never go in a drill file") == true, "\(issues)")
        #expect(issues.first?.contains("AWS_SECRET_ACCESS_KEY") == true)
        #expect(issues.first?.contains("hunter2") == false)
    }

    @Test func unknownKindListsTheMethods() throws {
        let (_, issues) = try parse(#"{ "version": 1, "tier": "critical", "backup": { "kind": "barmen", "server": "p" } }"#)
        #expect(issues.count == 1)
        #expect(issues.first?.contains("unknown kind \"barmen\"") == true, "\(issues)")
        #expect(issues.first?.contains("barman-cloud") == true, "\(issues)")
    }
}
