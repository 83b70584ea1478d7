import DrillCore
import DrillLive
import Foundation
import Testing

/// Subprocess invocations are data: their arguments are checked here, secrets must travel in the environment.
@Suite("Restore tool invocations")
struct ToolArgumentTests {
    @Test func pgRestoreArguments() {
        #expect(PgRestoreRestorer.arguments(format: .custom, jobs: 4, database: "drill_x", path: "/b/shop.dump") ==
            ["--exit-on-error", "--no-owner", "--no-privileges", "--no-password", "--dbname=drill_x", "--format=custom",
             "--jobs=4", "/b/shop.dump"])
        // Parallel restore needs a seekable file or a folder: tar and standard input restore with one job.
        #expect(!PgRestoreRestorer.arguments(format: .tar, jobs: 4, database: "d", path: "/b/x.tar").contains { $0.hasPrefix("--jobs") })
        #expect(!PgRestoreRestorer.arguments(format: .custom, jobs: 4, database: "d", path: nil).contains { $0.hasPrefix("--jobs") })
        #expect(PgRestoreRestorer.arguments(format: .directory, jobs: 2, database: "d", path: "/b/dir").contains("--jobs=2"))
        #expect(PsqlRestorer.arguments(database: "drill_x") == ["-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1", "--dbname=drill_x", "-f", "-"])
    }

    @Test func secretsGoToTheEnvironmentOnly() throws {
        let c = try ConnInfo.parse("postgresql://alice:s3cr%40t@db.example:6543/postgres?sslmode=require")
        #expect(c.keywords["password"] == "s3cr@t")
        #expect(c.environment["PGPASSWORD"] == "s3cr@t")
        #expect(c.environment["PGHOST"] == "db.example")
        #expect(c.environment["PGPORT"] == "6543")
        #expect(c.environment["PGSSLMODE"] == "require")
        #expect(!c.display.contains("s3cr"))
        let args = PgRestoreRestorer.arguments(format: .custom, jobs: 2, database: c.with(database: "drill_y").database!, path: "/b")
        #expect(!args.joined(separator: " ").contains("s3cr"))
        #expect(Redact.url("postgresql://alice:s3cr%40t@db/x") == "postgresql://alice@db/x")
        #expect(Redact.url("host=db password=hunter2 user=a") == "host=db password=*** user=a")
    }

    @Test func badConnectionStringsDoNotEchoThePassword() {
        #expect {
            try ConnInfo.parse("postgresql://alice:hunter2@db/x?nonsense=1")
        } throws: { error in
            "\(error)".contains("not a valid libpq connection string") && !"\(error)".contains("hunter2")
        }
    }

    @Test func scratchDatabaseNames() {
        let name = ScratchNaming.databaseName(drill: String(repeating: "Very-Long_Name", count: 4), at: RFC3339.parse("2026-11-28T07:30:00Z")!)
        #expect(name.utf8.count <= 63)
        #expect(name.hasPrefix("drill_very_long_name"))
        #expect(name.contains("_20261128t073000z_"))
    }

    @Test func restoreProfiles() {
        let durable = Dictionary(ServerSettings.forRestore(profile: .durable, jobs: 2, memoryBytes: 8 << 30), uniquingKeysWith: { $1 })
        let fast = Dictionary(ServerSettings.forRestore(profile: .fast, jobs: 2, memoryBytes: 8 << 30), uniquingKeysWith: { $1 })
        #expect(durable["fsync"] == "on")
        #expect(durable["archive_mode"] == "off")
        #expect(fast["fsync"] == "off")
        #expect(fast["full_page_writes"] == "off")
        #expect(fast["synchronous_commit"] == "off")
        #expect(durable["wal_level"] == "minimal", "COPY into a table created in the same transaction skips WAL")
        #expect(durable["shared_buffers"] == "256MB" && fast["shared_buffers"] == "256MB")
        #expect(durable["maintenance_work_mem"] == "512MB", "8 GiB over 2 jobs: an eighth each")
    }
}
