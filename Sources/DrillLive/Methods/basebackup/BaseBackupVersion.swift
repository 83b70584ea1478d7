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
            let r = try? await ChildProcess.run(ProcessSpec(executable: PostgresBinaries(directory: "").tool("tar"),
                                                            arguments: versionArguments(path(name)),
                                                            stdout: .capture(limit: 64), stderr: .capture(limit: 4096)))
            if let out = r?.stdout, let v = PostgresVersion(parsing: out) { return v }
        }
        return nil
    }

    /// `tar -xO` of the first member named `PG_VERSION` at any depth (`PG_VERSION`, `./PG_VERSION`, or a database's
    /// `base/<oid>/PG_VERSION`, which holds the same major), stopping there: the rest of the archive is not read
    /// (two names, one of them absent, made tar decompress the whole of `base.tar.gz`, a second time).
    static func versionArguments(_ archive: String) -> [String] {
        (archive.hasSuffix(".gz") ? ["-x", "-z"] : ["-x"]) + ["-O", "--occurrence=1", "--wildcards", "--no-anchored", "-f", archive, "PG_VERSION"]
    }
}
