import DrillCore
@testable import DrillLive
import DrillTesting
import Foundation
import Logging
import Testing

/// A tar-format base backup is untrusted input, and `tar -x` runs as the scratch server's account (no `chown -R`
/// afterwards). An archive with a device node, a set-user-ID file, absolute and `..` names, hard links to system
/// files and members written through symlinks it made fails extraction clearly and creates nothing outside the data
/// folder, no device node and no set-user-ID file inside it.
@Suite("Hostile tar-format base backups")
struct HostileBaseBackupTests {
    /// Writes `base.tar` into `backup` with members that try to escape `outside` (a world-writable folder).
    static func writeHostileTar(into backup: String, outside: String) async throws {
        let script = """
            import io, sys, tarfile
            out, outside = sys.argv[1], sys.argv[2]
            def add(t, name, data=b"x", kind=tarfile.REGTYPE, link="", mode=0o600):
                i = tarfile.TarInfo(name); i.type = kind; i.linkname = link; i.mode = mode
                if kind == tarfile.REGTYPE:
                    i.size = len(data); t.addfile(i, io.BytesIO(data))
                else:
                    t.addfile(i)
            with tarfile.open(out, "w", format=tarfile.GNU_FORMAT) as t:
                add(t, "backup_label", b"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\\n")
                add(t, outside + "/absolute", b"absolute name")
                add(t, "../dotdot", b"dot-dot name")
                add(t, "global/../../dotdot2", b"dot-dot inside")
                add(t, "escape", kind=tarfile.SYMTYPE, link=outside)
                add(t, "escape/through-symlink", b"written through a symlink")
                add(t, "passwd", kind=tarfile.LNKTYPE, link="/etc/passwd")
                add(t, "setuid", b"#!/bin/sh\\n", mode=0o4755)
                i = tarfile.TarInfo("disk"); i.type = tarfile.BLKTYPE; i.devmajor = 8; i.devminor = 0; t.addfile(i)
                i = tarfile.TarInfo("null"); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; t.addfile(i)
            """
        let r = try await ChildProcess.run(ProcessSpec(executable: "/usr/bin/env", arguments: [
            "python3", "-c", script, (backup as NSString).appendingPathComponent("base.tar"), outside,
        ]))
        guard r.succeeded else { throw FixtureError("writing the hostile tar failed: \(r.stderr)") }
    }

    @Test("device nodes, set-user-ID bits, absolute and .. names, links out: refused; nothing outside the data folder")
    func hostileTar() async throws {
        let folder = TempFolder("hostiletar")
        let backup = folder.sub("base/20261201T0000Z")
        let outside = folder.sub("outside")
        chmod(outside, 0o777)
        try await Self.writeHostileTar(into: backup, outside: outside)

        let (session, data) = try await extractHostile(backup, in: folder, failing: "extracting base.tar failed")

        // Nothing reached the world-writable folder the archive aimed at, nor the folders above the data folder.
        #expect(folder.entries("outside").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: folder.file("dotdot")))
        let root = (data as NSString).deletingLastPathComponent
        #expect(!FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent("dotdot")))
        #expect(!FileManager.default.fileExists(atPath: (root as NSString).appendingPathComponent("dotdot2")))
        // An absolute name lands inside the data folder (leading / removed), never at its absolute path.
        #expect(!FileManager.default.fileExists(atPath: (outside as NSString).appendingPathComponent("absolute")))
        _ = await session.teardown()
        expectNothingLeft(folder)
    }
}

/// Extracts the backup folder `backup` into a new scratch session under `folder` and expects it to fail as
/// `backup_corrupt` with `message`; whatever was made in the data folder is no device node, has no set-user-ID bit
/// and belongs to the server's account, not root. Returns the session (the caller tears it down) and its data folder.
func extractHostile(_ backup: String, in folder: TempFolder, failing message: String,
                    sourceLocation: SourceLocation = #_sourceLocation) async throws -> (session: any PhysicalSession, data: String) {
    let drill = DrillConfig(name: "hostile", tier: "critical", backup: BackupConfig(location: folder.sub("base")),
                            wal: WALConfig(location: folder.sub("wal")))
    let restorer = BaseBackupRestorer(scratchRoot: folder.sub("scratch"), logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    let session = try await restorer.prepare(drill: drill, profile: .fast)
    let data = try #require((session as? BaseBackupSession)?.cluster.dataDirectory, sourceLocation: sourceLocation)
    let staged = StagedBackup(path: backup, isDirectory: true, sizeBytes: 0, sha256: "", isTemporary: false)
    let error = await #expect(throws: DrillError.self, sourceLocation: sourceLocation) { _ = try await session.extract(staged) }
    #expect(error?.code == .backupCorrupt, sourceLocation: sourceLocation)
    #expect(error?.message.contains(message) == true, "\(error?.message ?? "")", sourceLocation: sourceLocation)
    let runAs = (session as? BaseBackupSession)?.cluster.runAs
    for rel in try FileManager.default.subpathsOfDirectory(atPath: data) {
        var st = stat()
        #expect(lstat((data as NSString).appendingPathComponent(rel), &st) == 0, sourceLocation: sourceLocation)
        let kind = st.st_mode & S_IFMT
        #expect(kind != S_IFBLK && kind != S_IFCHR, "\(rel) is a device node", sourceLocation: sourceLocation)
        #expect(st.st_mode & S_ISUID == 0, "\(rel) keeps its set-user-ID bit", sourceLocation: sourceLocation)
        if let runAs { #expect(st.st_uid == runAs.uid, "\(rel) belongs to uid \(st.st_uid)", sourceLocation: sourceLocation) }
    }
    return (session, data)
}

/// A plain-format backup folder is untrusted input too: it is copied through `tar -c` (drill) into `tar -x` (the
/// server's account), so a device node or a set-user-ID file in it cannot reach the scratch cluster.
@Suite("Hostile plain-format base backups")
struct HostilePlainBackupTests {
    @Test("a device node and a set-user-ID file in a plain-format folder: refused, none of them in the data folder")
    func hostileFolder() async throws {
        let folder = TempFolder("hostileplain")
        let backup = folder.sub("base/20261201T0000Z")
        try "START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n".write(toFile: (backup as NSString).appendingPathComponent("backup_label"), atomically: true, encoding: .utf8)
        let setuid = (backup as NSString).appendingPathComponent("setuid")
        try "#!/bin/sh\n".write(toFile: setuid, atomically: true, encoding: .utf8)
        chmod(setuid, 0o4755)
        // A character device (/dev/null's numbers) and a block device: made as root, as on a tampered backup host.
        #expect(mknod((backup as NSString).appendingPathComponent("null"), S_IFCHR | 0o666, Self.device(1, 3)) == 0,
                "mknod needs root, as the tests run: \(String(cString: strerror(errno)))")
        #expect(mknod((backup as NSString).appendingPathComponent("disk"), S_IFBLK | 0o600, Self.device(8, 0)) == 0)

        let (session, _) = try await extractHostile(backup, in: folder, failing: "copying the base backup failed")
        _ = await session.teardown()
        expectNothingLeft(folder)
    }

    /// glibc's `makedev` (a macro Swift does not import) for majors and minors below 256.
    static func device(_ major: UInt64, _ minor: UInt64) -> dev_t { dev_t((major << 8) | minor) }
}

/// The PostgreSQL major of a local tar-format base backup, read before anything is provisioned.
@Suite("A base backup's PG_VERSION, read in place")
struct BaseBackupVersionTests {
    @Test("the first PG_VERSION at any depth, and tar stops there (never the whole archive)")
    func firstPGVersion() async throws {
        #expect(BaseBackupVersion.versionArguments("/b/base.tar.gz")
            == ["-x", "-z", "-O", "--occurrence=1", "--wildcards", "--no-anchored", "-f", "/b/base.tar.gz", "PG_VERSION"])
        #expect(BaseBackupVersion.versionArguments("/b/base.tar").first == "-x" && !BaseBackupVersion.versionArguments("/b/base.tar").contains("-z"))
        // An incremental chain's backup_label, read from a tar archive's head (pg_basebackup writes it first).
        #expect(BaseBackupVersion.labelArguments("/b/incr1/base.tar.gz") == ["-x", "-z", "-O", "--occurrence=1", "-f", "/b/incr1/base.tar.gz", "backup_label"])
        #expect(BaseBackupVersion.labelArguments("/b/incr1/base.tar") == ["-x", "-O", "--occurrence=1", "-f", "/b/incr1/base.tar", "backup_label"])
        // A database's PG_VERSION before the root's (pg_basebackup follows readdir order); a look-alike name first.
        let dir = try TempFiles.directory()
        let script = """
            import io, sys, tarfile
            with tarfile.open(sys.argv[1], "w:gz") as t:
                for name, data in [("backup_label", b"x"), ("NOT_PG_VERSION", b"9\\n"), ("base/5/PG_VERSION", b"15\\n"), ("PG_VERSION", b"15\\n")]:
                    i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
            """
        let r = try await ChildProcess.run(ProcessSpec(executable: "/usr/bin/env", arguments: ["python3", "-c", script, "\(dir)/base.tar.gz"]))
        try #require(r.succeeded, "\(r.stderr)")
        #expect(await BaseBackupVersion.read(dir)?.major == 15)
    }
}
