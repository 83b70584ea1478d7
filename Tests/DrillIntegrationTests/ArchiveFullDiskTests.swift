import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// The local archive on a real full disk (a 256 KiB tmpfs) and under a permissive umask.
@Suite("Archive on a full disk and under umask 000", .timeLimit(.minutes(5)))
struct ArchiveFullDiskTests {
    @Test("a chain entry that cannot be written on a full tmpfs: the reports it belonged to are removed, verify stays OK")
    func fullDisk() async throws {
        let folder = TempFolder("fulldisk")
        let disk = folder.sub("disk")
        // CI runs as root: a mount that is refused is a failure of this test, not a reason to skip it.
        let mount = try ToolProcess.run("/bin/mount", ["-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", disk])
        try #require(mount.status == 0, "mount -t tmpfs failed: \(mount.stderr)")
        defer { _ = try? ToolProcess.run("/bin/umount", [disk]) }

        let root = (disk as NSString).appendingPathComponent("archive")
        let archive = ReportArchive(storage: LocalArchiveStorage(root: root))
        let first = try await archive.append(ReportFixtures.report(drill: "shop", startedAt: ReportFixtures.date("2026-11-01T07:30:00Z")))

        // Fill the disk so that exactly the second report's JSON and Markdown fit, and its chain entry does not.
        var second = ReportFixtures.report(drill: "shop", startedAt: ReportFixtures.date("2026-11-02T07:30:00Z"))
        second.previousSHA256 = first.entry.jsonSHA256  // as append will link it: the same bytes, the same sizes
        let block = try freeBlocks(disk).size
        let needed = pages(try second.jsonData().count, block) + pages(MarkdownReport.render(second).utf8.count, block)
        let filler = (disk as NSString).appendingPathComponent("filler")
        try Data(count: (try freeBlocks(disk).free - needed) * block).write(to: URL(fileURLWithPath: filler))
        try #require(try freeBlocks(disk).free == needed, "the disk should have room for the two reports only")

        let error = try await #require(throws: ArchiveError.self) { try await archive.append(second) }
        #expect(error.description.contains("No space left on device"), "\(error)")
        #expect(error.description.contains(ChainEntry.path(sequence: 2)), "\(error)")
        #expect(error.description.contains("removed what this run had written"), "\(error)")
        // No orphan report, no temp file: only the first report, its entry and the lock.
        let all = try FileManager.default.subpathsOfDirectory(atPath: root).filter { !isFolder((root as NSString).appendingPathComponent($0)) }
        #expect(Set(all) == [".lock", first.json, first.markdown, first.entry.path], "\(all)")
        #expect(try await archive.verify().intact)
        let verify = try await DrillBinary.run(["archive", "verify", "--archive", root, "--config", folder.sub("config")])
        #expect(verify.exitCode == 0, "\(verify.output)")
        #expect(verify.stdout.hasPrefix("OK: ") && !verify.output.contains("TAMPERED"), "\(verify.output)")

        // Room again: the next append continues the same chain.
        try FileManager.default.removeItem(atPath: filler)
        let again = try await archive.append(second)
        #expect(again.entry.sequence == 2)
        #expect(try await archive.verify().intact)
    }

    @Test("under umask 000 a real drill run's archive has folders 0750 and files 0640")
    func umaskZero() async throws {
        let folder = TempFolder("umask")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let config = try ConfigFixture(in: folder, drills: ["shop": ConfigFixture.drill(location: backups)])
        let root = folder.file("new/archive")  // drill creates both folders
        let r = try await ChildProcess.run(ProcessSpec(
            executable: "/bin/sh", arguments: ["-c", #"umask 000 && exec "$0" "$@""#, DrillBinary.path, "run", "shop",
                                               "--config", config.directory, "--archive", root],
            environment: ["TMPDIR": folder.sub("scratch")], unsetEnvironment: ["PG*", "DRILL_*"],
            stdout: .capture(limit: 1 << 20), stderr: .capture(limit: 1 << 20)))
        #expect(r.exitCode == 0, "\(r.stdout)\(r.stderr)")
        var files = 0
        for rel in ["."] + (try FileManager.default.subpathsOfDirectory(atPath: folder.file("new"))) {
            let path = (folder.file("new") as NSString).appendingPathComponent(rel)
            var st = stat()
            #expect(lstat(path, &st) == 0)
            if st.st_mode & S_IFMT == S_IFDIR {
                #expect(st.st_mode & 0o7777 == 0o750, "\(path) is \(String(st.st_mode & 0o7777, radix: 8))")
            } else {
                files += 1
                #expect(st.st_mode & 0o7777 == 0o640, "\(path) is \(String(st.st_mode & 0o7777, radix: 8))")
            }
        }
        #expect(files == 4, "a JSON and a Markdown report, a chain entry and the lock")
        expectNothingLeft(folder)
    }
}

private func pages(_ bytes: Int, _ block: Int) -> Int { (bytes + block - 1) / block }

private func freeBlocks(_ path: String) throws -> (free: Int, size: Int) {
    var s = statvfs()
    guard statvfs(path, &s) == 0 else { throw DrillLiveError.io("statvfs \(path)") }
    return (Int(s.f_bavail), Int(s.f_frsize))
}

private func isFolder(_ path: String) -> Bool {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
}
