import DrillCore
import Foundation

/// Reads what a `pg_basebackup` folder says of itself before it is restored: the PostgreSQL major (`PG_VERSION` of a
/// plain-format backup, or the `PG_VERSION` member of `base.tar[.gz|.lz4|.zst]`) and a tar-format backup's
/// `backup_label`, read with `tar -xO` (nothing written to disk).
enum BaseBackupVersion {
    static func read(_ folder: String) async -> PostgresVersion? {
        let fm = FileManager.default
        func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }
        if let data = fm.contents(atPath: path("PG_VERSION")) {
            return PostgresVersion(parsing: String(decoding: data, as: UTF8.self))
        }
        guard let name = BaseBackupSession.baseArchive(in: folder),
              let out = await member(versionArguments(path(name)), limit: 64) else { return nil }
        return PostgresVersion(parsing: out)
    }

    /// `tar -xO` of the first member named `PG_VERSION` at any depth (`PG_VERSION`, `./PG_VERSION`, or a database's
    /// `base/<oid>/PG_VERSION`, which holds the same major), stopping there: the rest of the archive is not read
    /// (two names, one of them absent, made tar decompress the whole of `base.tar.gz`, a second time).
    static func versionArguments(_ archive: String) -> [String] {
        memberArguments(archive, "PG_VERSION", matching: ["--wildcards", "--no-anchored"])
    }

    /// `tar -xO` of a tar-format backup's `backup_label` (pg_basebackup writes it first), stopping there: how an
    /// incremental chain is read before anything is provisioned.
    static func labelArguments(_ archive: String) -> [String] {
        memberArguments(archive, "backup_label")
    }

    /// `tar -x` of the first member named `name` (as `matching` options match it) onto standard output,
    /// decompressing by the archive's suffix.
    private static func memberArguments(_ archive: String, _ name: String, matching: [String] = []) -> [String] {
        ["-x"] + BaseBackupSession.decompression(archive, pigz: nil) + ["-O", "--occurrence=1"] + matching + ["-f", archive, name]
    }

    /// What tar printed for `arguments` (nothing is written to disk), nil when it failed.
    static func member(_ arguments: [String], limit: Int) async -> String? {
        let r = try? await ChildProcess.run(ProcessSpec(executable: PostgresBinaries(directory: "").tool("tar"), arguments: arguments,
                                                        stdout: .capture(limit: limit), stderr: .capture(limit: 4096)))
        guard let r, r.succeeded else { return nil }
        return r.stdout
    }
}
