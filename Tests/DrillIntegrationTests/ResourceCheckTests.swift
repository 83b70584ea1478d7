import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// A drill that cannot fit on the scratch disk is not started: it fails with a finding instead of filling the disk.
@Suite("Disk check before a drill", .serialized, .timeLimit(.minutes(3)))
struct ResourceCheckTests {
    @Test("a scratch root on a 4 MiB tmpfs: the drill fails before provisioning, names the need and the free space, leaves nothing")
    func tooSmall() async throws {
        let folder = TempFolder("small-disk")
        let scratch = folder.sub("scratch")
        let mount = try await ChildProcess.run(ProcessSpec(executable: "/bin/mount", arguments: ["-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", scratch]))
        #expect(mount.succeeded, "mounting a tmpfs needs root (CI runs as root): \(mount.stderr)")
        guard mount.succeeded else { return }
        defer { _ = try? ToolProcess.run("/bin/umount", [scratch]) }
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let config = try ConfigFixture(in: folder, drills: ["shop": ConfigFixture.drill(location: backups)])
        let archive = folder.sub("archive")
        let r = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", archive],
                                          environment: ["DRILL_SCRATCH_DIR": scratch])
        #expect(r.exitCode == 3, "\(r.output)")
        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        #expect(report.status == .failed)
        #expect(report.failureCode == "insufficient_resources")
        #expect(report.findings.contains { $0.contains("of disk under \(scratch)") && $0.contains("not started") }, "\(report.findings)")
        #expect(!report.phases.contains { $0.name == "provision" }, "nothing was provisioned")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty, "the scratch root is untouched")
    }
}
