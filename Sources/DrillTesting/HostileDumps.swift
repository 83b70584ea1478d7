import DrillCore
import DrillLive
import Foundation

/// Backups that attack the host they are restored on: real dumps made by real `pg_dump` from the test's source
/// cluster. A plain dump is an attacker's edit of a real one (statements spliced in before its last line); a custom
/// dump carries the attack in real objects (a materialized view over a volatile function, which `pg_restore` refreshes),
/// written so that they do nothing on the source (the function checks which database it runs in).
public enum HostileDumps {
    /// A folder anyone may write into, for marker files: an attack that ran as any account would leave its marker,
    /// so a missing marker means the attack did not run (not that it lacked permission to write here).
    public static func markerFolder(in folder: TempFolder) -> String {
        let dir = folder.sub("markers")
        chmod(dir, 0o1777)
        return dir
    }

    /// The base database hostile dumps start from: one small table.
    static let baseSQL = """
        CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, owner text NOT NULL);
        INSERT INTO accounts SELECT i, 'owner ' || i FROM generate_series(1, 10) i ON CONFLICT DO NOTHING;
        """

    /// A plain dump of a small real database `db` with `attack` spliced in before pg_dump's last line, at `path`.
    public static func plain(attack: String, to path: String, database db: String = "hostile_base") async throws {
        try await ensureDatabase(db)
        try await SourceDatabase.shared.psql(baseSQL, database: db)
        let tmp = path + ".orig"
        try await SourceDatabase.shared.dump(db, to: tmp, format: .plain)
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        let sql = try String(contentsOfFile: tmp, encoding: .utf8)
        let marker = "-- PostgreSQL database dump complete"
        guard sql.contains(marker) else { throw FixtureError("pg_dump output has no completion marker") }
        try sql.replacingOccurrences(of: marker, with: attack + "\n\n" + marker).write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A custom-format dump of a real database `name` holding a materialized view over a volatile PL/pgSQL function
    /// whose body (`body`, PL/pgSQL statements) runs when the view is refreshed anywhere but in `name` itself:
    /// `pg_restore` refreshes it in the scratch database.
    public static func customWithMaterializedView(_ name: String, body: String, to path: String) async throws {
        try await ensureDatabase(name)
        try await SourceDatabase.shared.psql(baseSQL + """

            CREATE OR REPLACE FUNCTION refreshed() RETURNS int LANGUAGE plpgsql VOLATILE AS $fn$
            BEGIN
              IF current_database() <> '\(name)' THEN
                \(body)
              END IF;
              RETURN 1;
            END $fn$;
            DROP MATERIALIZED VIEW IF EXISTS summary;
            CREATE MATERIALIZED VIEW summary AS SELECT refreshed() AS x, count(*) AS n FROM accounts;
            """, database: name)
        try await SourceDatabase.shared.dump(name, to: path, format: .custom)
    }

    static func ensureDatabase(_ name: String) async throws {
        let exists = try await SourceDatabase.shared.psql("SELECT 1 FROM pg_database WHERE datname = '\(name)'")
        if exists.isEmpty {
            do { try await SourceDatabase.shared.psql("CREATE DATABASE \(name)") } catch {
                // Another test created it meanwhile.
                guard try await SourceDatabase.shared.psql("SELECT 1 FROM pg_database WHERE datname = '\(name)'") == "1" else { throw error }
            }
        }
    }

    /// Live processes whose environment holds `secret`, other than `except`.
    public static func processesHolding(_ secret: String, except: Set<Int32>) -> [Int32] {
        let needle = Data(secret.utf8)
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
            .filter { !except.contains($0) }
            .filter { pid in
                guard let env = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return false }
                return env.range(of: needle) != nil
            }
    }
}
