@testable import DrillCore
import Foundation
import Testing

@Suite("Replica drills: the drill file")
struct ReplicaConfigTests {
    let tiers: [String: TierConfig] = ["critical": TierConfig(name: "critical", rto: .init(seconds: 3600), rpo: .init(seconds: 300))]

    func parse(_ json: String) throws -> (DrillConfig?, [String]) {
        let r = ConfigReader(file: "drills/x.json")
        let d = DrillConfig.parse(try JSONValue.parse(Data(json.utf8)), name: "x", file: "drills/x.json", tiers: tiers, reader: r)
        return (d, r.issues.map(\.description))
    }

    static let example = """
        { "version": 1, "tier": "critical",
          "replica": {
            "primary":  "postgresql://drill_monitor@db-primary:5432/postgres",
            "standbys": [ { "name": "stby1", "url": "postgresql://drill_monitor@db-standby:5432/postgres" } ],
            "heartbeat": { "table": "drill_heartbeat" },
            "slots": [ "debezium" ],
            "subscriptions": [ { "name": "analytics", "url": "postgresql://drill_monitor@db-analytics/analytics" } ],
            "clone": { "from": "stby1", "detection": "30s" } },
          "checks": [ { "name": "orders visible on the standby", "sql": "SELECT count(*) FROM orders", "expect": { "min": 1 } } ] }
        """

    @Test func theIssuesExampleIsAReplicaDrill() throws {
        let (d, issues) = try parse(Self.example)
        #expect(issues.isEmpty, "\(issues)")
        let drill = try #require(d)
        #expect(drill.method == .replica)
        let s = try #require(drill.settings as? ReplicaSettings)
        #expect(s.primary == "postgresql://drill_monitor@db-primary:5432/postgres")
        #expect(s.standbys == [.init(name: "stby1", url: "postgresql://drill_monitor@db-standby:5432/postgres")])
        #expect(s.heartbeatTable == "drill_heartbeat")
        #expect(s.slots == ["debezium"])
        #expect(s.subscriptions.map(\.name) == ["analytics"])
        #expect(s.clone == .init(from: "stby1", detection: DrillDuration(seconds: 30)))
        #expect(s.standbyToClone?.name == "stby1")
        #expect(!s.supportsServerTarget)
        // The probe waits for the tier's RPO, at most a minute, unless told.
        #expect(s.probeWait(rpo: DrillDuration(seconds: 300)) == .seconds(60))
        #expect(s.probeWait(rpo: DrillDuration(seconds: 20)) == .seconds(20))
        #expect(drill.checks.count == 1)
    }

    @Test(arguments: [
        "postgresql://drill:s3cret@db/postgres",
        "postgresql://drill@db/postgres?sslmode=require&password=s3cret",
        "host=db user=drill password=s3cret",
        "host=db sslpassword = s3cret",
    ])
    func aPasswordInTheFileIsRefused(url: String) throws {
        let json = Self.example.replacingOccurrences(of: "postgresql://drill_monitor@db-standby:5432/postgres", with: url)
        let (d, issues) = try parse(json)
        #expect(d == nil)
        #expect(issues.contains { $0.contains("replica.standbys[0].url") && $0.contains("a password in the drill file") }, "\(issues)")
        #expect(!issues.joined().contains("s3cret"))
    }

    @Test func urlsWithoutSecretsPass() {
        for ok in ["postgresql://drill@db:5432/postgres?passfile=/etc/drill/pgpass", "host=db user=drill dbname=postgres",
                   "postgresql://drill@[::1]:5432/postgres", "postgresql:///postgres?host=/run/postgresql"] {
            #expect(ConnectionText.secretProblem(ok) == nil, "\(ok)")
        }
    }

    @Test func mistakesAreNamedByKey() throws {
        let (_, issues) = try parse("""
            { "version": 1, "tier": "critical",
              "replica": { "primary": "postgresql://m@p/postgres",
                           "standbys": [ { "name": "a", "url": "postgresql://m@a/postgres" }, { "name": "a", "url": "postgresql://m@b/postgres" } ],
                           "heartbeat": { "table": "Drill Heartbeat" }, "slots": [ "ok", "not a slot!" ],
                           "clone": { "from": "zzz", "max_rate": "10G" }, "wait": "0s", "lag": 1 },
              "recovery": { "target": "latest" } }
            """)
        for expected in ["replica.standbys[1].name: duplicate standby name", "replica.heartbeat.table: expected a table name",
                         "replica.slots[1]: expected a name", "replica.clone.from: \"zzz\" is not one of the standbys",
                         "replica.clone.detection: missing required key", "replica.clone.max_rate: expected pg_basebackup",
                         "replica.wait: must be at least 1s", "replica.lag: unknown key", "recovery: a replica drill restores no backup"] {
            #expect(issues.contains { $0.contains(expected) }, "missing \(expected) in \(issues)")
        }
    }

    @Test func anotherMethodsKeysAndAServerTargetAreRefused() throws {
        let (_, issues) = try parse("""
            { "version": 1, "tier": "critical", "backup": { "location": "/srv/b" },
              "target": { "kind": "server", "url": "postgresql://u@h/postgres" },
              "replica": { "primary": "postgresql://m@p/postgres", "standbys": [ { "name": "a", "url": "postgresql://m@a/postgres" } ] } }
            """)
        #expect(issues.contains { $0.contains("backup: not a key of a replica drill") }, "\(issues)")
        #expect(issues.contains { $0.contains("target.kind: a replica drill restores into a private scratch cluster") }, "\(issues)")
    }

    @Test func standbysAreRequired() throws {
        let (d, issues) = try parse(#"{ "version": 1, "tier": "critical", "replica": { "primary": "postgresql://m@p/postgres", "standbys": [] } }"#)
        #expect(d == nil)
        #expect(issues.contains { $0.contains("replica.standbys: expected a non-empty array") })
    }

    @Test func rates() {
        #expect(ReplicaParser.isRate("32k") && ReplicaParser.isRate("100M") && ReplicaParser.isRate("4096"))
        #expect(!ReplicaParser.isRate("31k") && !ReplicaParser.isRate("2048M") && !ReplicaParser.isRate("fast") && !ReplicaParser.isRate("M"))
    }

    @Test func initPrintsTheGrantsAndTheHeartbeatTable() {
        let sql = ReplicaInit.sql(role: "drill_monitor", table: "drill_heartbeat", clone: true, subscriptions: ["analytics"],
                                  publications: ["drill_pub"])
        for needed in ["GRANT pg_monitor TO drill_monitor;", "ALTER ROLE drill_monitor REPLICATION;",
                       "CREATE TABLE IF NOT EXISTS drill_heartbeat", "clock_timestamp()",
                       "GRANT SELECT, UPDATE ON drill_heartbeat TO drill_monitor;", "ALTER PUBLICATION drill_pub ADD TABLE drill_heartbeat;"] {
            #expect(sql.contains(needed), "missing \(needed)")
        }
        #expect(!ReplicaInit.sql(role: "Drill Role", table: nil, clone: false).contains("REPLICATION"))
        #expect(ReplicaInit.sql(role: "Drill Role", table: nil, clone: false).contains("GRANT pg_monitor TO \"Drill Role\";"))
    }
}
