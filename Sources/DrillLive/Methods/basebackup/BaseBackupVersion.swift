import DrillCore
import Foundation

/// Reads the PostgreSQL major of a `pg_basebackup` folder before it is restored: `PG_VERSION` of a plain-format
/// backup, or the `PG_VERSION` member of `base.tar` / `base.tar.gz` (read with `tar -xO`, nothing written to disk).
enum BaseBackupVersion {
    static func read(_ folder: String) async -> PostgresVersion? {
        let fm = FileManager.default
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        if let data = fm.contents(atPath: path("PG_VERSION")) {
            return PostgresVersion(parsing: String(decoding: data, as: UTF8.self))
        }
        for name in ["base.tar", "base.tar.gz"] where fm.fileExists(atPath: path(name)) {
            let args = (name.hasSuffix(".gz") ? ["-x", "-z"] : ["-x"]) + ["-O", "-f", path(name), "PG_VERSION", "./PG_VERSION"]
            let r = try? await ChildProcess.run(ProcessSpec(executable: PostgresBinaries(directory: "").tool("tar"), arguments: args,
                                                            stdout: .capture(limit: 64), stderr: .capture(limit: 4096)))
            // tar exits 2 for the one of the two names that is absent; the other's content is still printed.
            if let out = r?.stdout, let v = PostgresVersion(parsing: out) { return v }
        }
        return nil
    }
}
