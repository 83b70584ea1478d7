import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

@Suite("pg_dumpall cluster dumps: roles and every database into the embedded scratch cluster", .serialized, .timeLimit(.minutes(5)))
struct DumpAllTests {
    /// A cluster of its own (two databases, three roles), dumped once with pg_dumpall.
    actor Cluster {
        static let shared = Cluster()
        let source = PhysicalSource()
        private var made: Task<String, any Error>?
        private let folder: TempFolder = {
            let f = TempFolder("dumpall")
            ExitCleanup.register(pid: nil, paths: [f.path])
            return f
        }()

        func dump() async throws -> String {
            if made == nil {
                let source = self.source, path = folder.file("cluster.sql")
                made = Task {
                    try await source.psql("""
                        CREATE ROLE alice LOGIN PASSWORD 'alice-secret-never-restored';
                        CREATE ROLE bob NOLOGIN;
                        CREATE ROLE carol SUPERUSER;
                        GRANT bob TO alice;
                        GRANT pg_read_server_files TO carol;
                        """)
                    try await source.psql("CREATE DATABASE shop_a OWNER alice")
                    try await source.psql("CREATE DATABASE shop_b")
                    try await source.psql("CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT i, 'a' || i FROM generate_series(1, 30) i; ALTER TABLE items OWNER TO alice; GRANT SELECT ON items TO bob;",
                                          database: "shop_a")
                    try await source.psql("CREATE TABLE orders (id int PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now()); INSERT INTO orders (id) SELECT generate_series(1, 70);",
                                          database: "shop_b")
                    try await source.dump(nil, ["-f", path])
                    return path
                }
            }
            return try await made!.value
        }
    }

    static func drill(_ location: String, target: String = #"{ "kind": "embedded" }"#) -> String {
        """
        { "version": 1, "tier": "critical",
          "backup": { "location": "\(location)", "settle": "0s" },
          "target": \(target),
          "database": "shop_b",
          "restore": { "profile": "fast" },
          "checks": [
            { "name": "in shop_b", "sql": "SELECT (current_database() = 'shop_b')::int", "expect": { "equals": 1 } },
            { "name": "orders", "sql": "SELECT count(*) FROM orders", "expect": { "equals": 70 } },
            { "name": "roles exist", "sql": "SELECT count(*) FROM pg_roles WHERE rolname IN ('alice', 'bob', 'carol')", "expect": { "equals": 3 } },
            { "name": "no superuser restored", "sql": "SELECT count(*) FROM pg_roles WHERE rolname IN ('alice', 'bob', 'carol') AND (rolsuper OR rolcreaterole OR rolbypassrls)", "expect": { "equals": 0 } },
            { "name": "membership", "sql": "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = 'bob' AND u.rolname = 'alice'", "expect": { "equals": 1 } },
            { "name": "no file-reading membership", "sql": "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE r.rolname = 'pg_read_server_files'", "expect": { "equals": 0 } }
          ] }
        """
    }

    @Test("both databases are restored, the roles exist (without their privileges or passwords), the checks run in the named database")
    func restoresTheCluster() async throws {
        let folder = TempFolder("dumpall-ok")
        let backups = folder.sub("backups")
        _ = try copy(try await Cluster.shared.dump(), into: backups, as: "cluster.sql")
        let report = try await runDrill(Self.drill(backups), in: folder)
        #expect(report.status == .compliant, "findings: \(report.findings) checks: \(report.checks.map { "\($0.name)=\($0.observed ?? $0.error ?? "")" })")
        #expect(report.backup.format == "dumpall")
        let dbs = try #require(report.restore.databases)
        #expect(Set(dbs.map(\.name)).isSuperset(of: ["shop_a", "shop_b", "postgres"]), "\(dbs)")
        #expect(dbs.allSatisfy { ($0.sizeBytes ?? 0) > 0 })
        #expect(!dbs.contains { $0.name == "template1" })
        #expect(report.findings.contains { $0.contains("restored 3 roles") && $0.contains("SUPERUSER of role carol") && $0.contains("PASSWORD of role alice") })
        #expect(!report.findings.joined().contains("alice-secret"))
        #expect(report.postgres?.backupVersion?.major == 15)
        expectNothingLeft(folder)
    }

    @Test("on a server target a cluster dump is refused with a reason (exit 2), before anything is created")
    func refusedOnAServer() async throws {
        let folder = TempFolder("dumpall-srv")
        let backups = folder.sub("backups")
        _ = try copy(try await Cluster.shared.dump(), into: backups, as: "cluster.sql")
        let url = try await SourceDatabase.shared.passwordURL()
        let before = try await SourceDatabase.shared.databases()
        let report = try await runDrill(Self.drill(backups, target: #"{ "kind": "server", "url": "\#(url)" }"#), in: folder)
        #expect(report.status == .failed)
        #expect(report.failureCode == "configuration")
        #expect(ExitCode(report) == .usage)
        #expect(report.findings.contains { $0.contains("pg_dumpall cluster dump") && $0.contains("embedded") })
        #expect(try await SourceDatabase.shared.databases() == before)
        expectNothingLeft(folder)
    }
}
