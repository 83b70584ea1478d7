import DrillCore
@testable import DrillLive
import DrillTesting
import Foundation
import Testing

/// The restore phase's progress for a dump restored from a local file: what the tool read of it, percent and ETA
/// (`ReadWatcher`), printed as timestamped lines without a terminal (`DRILL_PROGRESS_SECONDS=0`: a line at every
/// update instead of every 30 s).
@Suite("Restore progress of logical restores", .timeLimit(.minutes(5)))
struct RestoreProgressTests {
    /// The `restore:` progress lines of a run's stderr, e.g. `… shop: restore: 1.2 MiB of 2.0 MiB (60%), ETA 1s, …`.
    static func progressLines(_ stderr: String) -> [Substring] {
        stderr.split(separator: "\n").filter { $0.contains(": restore: ") && $0.contains(" of ") && $0.contains("%)") }
    }

    @Test("pg_restore -j 2 of a custom dump and psql of a plain dump: progress lines up to 100 % without a terminal",
          arguments: [BackupFormat.custom, .plain])
    func progressLinesWithoutTerminal(format: BackupFormat) async throws {
        let folder = TempFolder("progress")
        let backups = folder.sub("backups")
        let dump = try await Shop.shared.dump(format)
        _ = try copy(dump, into: backups, as: format == .custom ? "shop.dump" : "shop.sql")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: dump)[.size] as? NSNumber).int64Value
        let config = try ConfigFixture(in: folder, drills: ["shop": ConfigFixture.drill(location: backups, jobs: 2)])
        let r = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", folder.sub("archive")],
                                          environment: ["TMPDIR": folder.sub("scratch"), "DRILL_PROGRESS_SECONDS": "0"])
        #expect(r.exitCode == 0, "\(r.output)")
        let lines = Self.progressLines(r.stderr)
        #expect(!lines.isEmpty, "\(r.stderr)")
        // Each line is timestamped and names the drill; the restore ends with the whole dump consumed.
        #expect(lines.allSatisfy { $0.hasPrefix("20") && $0.contains(" shop: restore: ") }, "\(lines)")
        #expect(size > 0)
        #expect(lines.last?.contains("(100%)") == true, "\(lines)")
        expectNothingLeft(folder)
    }

    @Test("a zstd-compressed plain dump (the stored bytes drill feeds the decoder) and a pg_dumpall file show progress up to 100 % too",
          arguments: ["zstd", "dumpall"])
    func layeredAndClusterDumps(kind: String) async throws {
        let folder = TempFolder("progress-\(kind)")
        let backups = folder.sub("backups")
        let drill: String
        if kind == "zstd" {
            // Over a megabyte stored: more than the pipes and zstd's buffers take in before the restore starts.
            let plain = folder.file("bulk.sql")
            try await EncodedDumps.bulkDump("progress_bulk", rows: 60_000, format: .plain, to: plain)
            let stored = (backups as NSString).appendingPathComponent("shop-latest")
            try await EncodedDumps.compress(plain, with: .zstd, to: stored)
            try FileManager.default.removeItem(atPath: plain)
            let size = try #require(try FileManager.default.attributesOfItem(atPath: stored)[.size] as? Int)
            #expect(size > 1_000_000, "\(size) bytes stored")
            drill = encodedDrill(location: backups, checks: #"[ { "name": "rows", "sql": "SELECT count(*) FROM bulk", "expect": { "equals": 60000 } } ]"#)
        } else {
            _ = try copy(try await DumpAllTests.Cluster.shared.dump(), into: backups, as: "cluster.sql")
            drill = DumpAllTests.drill(backups)
        }
        let config = try ConfigFixture(in: folder, drills: ["shop": drill])
        let r = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", folder.sub("archive")],
                                          environment: ["TMPDIR": folder.sub("scratch"), "DRILL_PROGRESS_SECONDS": "0"])
        #expect(r.exitCode == 0, "\(r.output)")
        let lines = Self.progressLines(r.stderr)
        #expect(lines.allSatisfy { $0.hasPrefix("20") && $0.contains(" shop: restore: ") }, "\(lines)")
        #expect(lines.last?.contains("(100%)") == true, "\(r.stderr)")
        expectNothingLeft(folder)
    }

    @Test("what a tool and its child processes read adds up, and stays counted when they exit")
    func processTreeReads() async throws {
        let dir = try TempFiles.directory()
        let a = "\(dir)/a", b = "\(dir)/b"
        _ = try TempFiles.random(a, size: 3 << 20)
        _ = try TempFiles.random(b, size: 1 << 20 + 17)
        let expected = Int64(4 << 20 + 17)
        // A shell and two `cat`s, like pg_restore and its workers: each cat reads its file, then waits on the pipe.
        let tool = try ChildProcess(ProcessSpec(executable: "/bin/sh", arguments: [
            "-c", #"cat "$1" - >/dev/null <&0 & cat "$2" - >/dev/null; wait"#, "sh", a, b,
        ], stdin: .pipe, stdout: .null, stderr: .null))
        let measure = ReadWatcher.processReads(root: tool.pid, total: nil)
        // Wait until both have read their files (no timing assertion: a generous deadline only).
        var seen: Int64 = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            seen = measure() ?? 0
            if seen >= expected { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(seen >= expected)
        #expect(seen < expected + (256 << 10), "\(seen) bytes: the shell's and the loader's own reads are small")
        try tool.stdin?.close()
        _ = await tool.wait()
        #expect((measure() ?? 0) >= expected, "an exited process keeps its count")
        let capped = ReadWatcher.processReads(root: tool.pid, total: 1000)
        #expect((capped() ?? 0) <= 1000)
    }

    @Test("a restore's progress figure: a file's size, or the sum of a folder's files")
    func sizes() throws {
        let dir = try TempFiles.directory()
        _ = try TempFiles.random("\(dir)/toc.dat", size: 1000)
        _ = try TempFiles.random("\(dir)/3001.dat.gz", size: 2345)
        #expect(ReadWatcher.size(of: "\(dir)/toc.dat") == 1000)
        #expect(ReadWatcher.size(of: dir) == 3345)
        #expect(ReadWatcher.size(of: "\(dir)/missing") == nil)
    }
}
