import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// The WAL prefetcher and the waiting restore_command it feeds, on real files and the real script (no server): the
/// window bound holds, and a file that never comes stops everything after it.
@Suite("WAL prefetcher and its restore_command", .timeLimit(.minutes(2)))
struct WALPrefetcherTests {
    /// `count` fake segment files of 1000 bytes in `<folder>/archive`, as archive listing entries.
    static func archive(_ folder: TempFolder, count: Int) throws -> [WALArchive.File] {
        let dir = folder.sub("archive")
        return try (0..<count).map { i in
            let name = WALSegment(timeline: 1, number: UInt64(2 + i)).name
            let path = (dir as NSString).appendingPathComponent(name)
            try Data(repeating: UInt8(i), count: 1000).write(to: URL(fileURLWithPath: path))
            return WALArchive.File(walName: name, object: BackupObject(uri: path, name: name, sizeBytes: 1000, modifiedAt: Date(),
                                                                          localPath: path), compressed: false)
        }
    }

    /// Copies the file from its local path into `incoming` (what the live session does for a local archive).
    static let copy: WALPrefetcher.Fetch = { file, incoming in
        try FileManager.default.copyItem(atPath: file.object.localPath!, toPath: (incoming as NSString).appendingPathComponent(file.walName))
        return 1000
    }

    /// Runs the restore_command script as PostgreSQL would: `script %f %p`; returns its exit code.
    static func restore(_ script: String, _ name: String, into dir: String) async throws -> Int32 {
        let r = try await ChildProcess.run(ProcessSpec(executable: "/bin/sh", arguments: [script, name, (dir as NSString).appendingPathComponent("RECOVERYXLOG")]))
        return r.exitCode ?? -1
    }

    static func waitUntil(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<3000 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
        #expect(condition(), "timed out waiting until \(what)")
    }

    @Test("the window holds: the prefetcher waits until replay took a file, and the script waits for an announced one")
    func windowHolds() async throws {
        let folder = TempFolder("walwin")
        let files = try Self.archive(folder, count: 6)
        let wal = folder.sub("wal"), pg = folder.sub("pg")
        let script = try WALWaitScript.install(in: folder.path, walDirectory: wal)
        let prefetcher = WALPrefetcher(directory: wal, files: files,
                                       options: WALDeliveryOptions(connections: 4, windowBytes: 2500, segmentSize: 1000),
                                       segmentSize: 1000, handOver: { _ in }, fetch: Self.copy)
        let run = Task { try await prefetcher.run(progress: nil) }

        try await Self.waitUntil("the window is full") { prefetcher.isWaitingForWindow }
        #expect(prefetcher.fetchedNames == files.prefix(2).map(\.walName), "two files fit in a 2500-byte window, not three")
        #expect(!FileManager.default.fileExists(atPath: (wal as NSString).appendingPathComponent(files[2].walName)))

        // Replay takes the first file: one more is fetched, and the window is full again.
        #expect(try await Self.restore(script, files[0].walName, into: pg) == 0)
        #expect(FileManager.default.contents(atPath: (pg as NSString).appendingPathComponent("RECOVERYXLOG")) == Data(repeating: 0, count: 1000))
        try await Self.waitUntil("a third file was fetched") { prefetcher.fetchedNames.count == 3 }
        try await Self.waitUntil("the window is full again") { prefetcher.isWaitingForWindow }
        #expect(prefetcher.fetchedNames.count == 3)

        // The script waits for each announced file until the prefetcher brings it.
        for (i, file) in files.enumerated().dropFirst() {
            #expect(try await Self.restore(script, file.walName, into: pg) == 0)
            #expect(FileManager.default.contents(atPath: (pg as NSString).appendingPathComponent("RECOVERYXLOG")) == Data(repeating: UInt8(i), count: 1000))
        }
        #expect(try await run.value == 6000)
        #expect(prefetcher.peakAheadBytes <= 2500)
        // A name never announced fails at once (PostgreSQL asks for the segment after the last one, and for
        // history files of timelines that do not exist); so does a served segment drill has deleted since.
        #expect(try await Self.restore(script, WALSegment(timeline: 1, number: 100).name, into: pg) == 1)
        #expect(try await Self.restore(script, "00000002.history", into: pg) == 1)
        #expect(try await Self.restore(script, files[0].walName, into: pg) == 1)
        folder.remove()
    }

    @Test("without a prefetcher (WAL imported before replay, as the Barman methods do) the script is plain cp")
    func withoutPrefetcher() async throws {
        let folder = TempFolder("walcp")
        let wal = folder.sub("wal"), pg = folder.sub("pg")
        let script = try WALWaitScript.install(in: folder.path, walDirectory: wal)
        let name = WALSegment(timeline: 1, number: 2).name
        try Data("segment".utf8).write(to: URL(fileURLWithPath: (wal as NSString).appendingPathComponent(name)))
        #expect(try await Self.restore(script, name, into: pg) == 0)
        #expect(FileManager.default.contents(atPath: (pg as NSString).appendingPathComponent("RECOVERYXLOG")) == Data("segment".utf8))
        #expect(try await Self.restore(script, WALSegment(timeline: 1, number: 3).name, into: pg) == 1)
        folder.remove()
    }

    @Test("a listed file that cannot be fetched: the error names it and the script hands over nothing more, not even later files already fetched")
    func aFileThatNeverComes() async throws {
        let folder = TempFolder("walgap")
        let files = try Self.archive(folder, count: 5)
        try FileManager.default.removeItem(atPath: files[2].object.localPath!)
        let wal = folder.sub("wal"), pg = folder.sub("pg")
        let script = try WALWaitScript.install(in: folder.path, walDirectory: wal)
        // One file at a time, in order: the later files are fetched only after the missing one failed... never.
        // With four at once, files after the missing one may already be in the folder: they must not be served.
        let prefetcher = WALPrefetcher(directory: wal, files: files, options: WALDeliveryOptions(connections: 4, windowBytes: nil, segmentSize: 1000),
                                       segmentSize: 1000, handOver: { _ in }, fetch: { file, incoming in
                                           if file.walName == files[2].walName { try await Task.sleep(for: .milliseconds(300)) }
                                           return try await Self.copy(file, incoming)
                                       })
        let error = await #expect(throws: WALDeliveryError.self) { try await prefetcher.run(progress: nil) }
        #expect(error?.walName == files[2].walName)
        #expect(FileManager.default.fileExists(atPath: (wal as NSString).appendingPathComponent(files[3].walName)),
                "the later file was fetched meanwhile")
        #expect(try await Self.restore(script, files[2].walName, into: pg) == 1)
        #expect(try await Self.restore(script, files[3].walName, into: pg) == 1, "no segment after the missing one is handed over")
        folder.remove()
    }
}
