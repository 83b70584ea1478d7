import DrillCore
import Foundation
import Logging

/// Finds the chain of a PostgreSQL 17+ incremental base backup among the backup folders beside it and combines it
/// with `pg_combinebackup` (of the backup's major) into a private folder: plain-format backups in a local
/// `backup.location`, as `pg_basebackup --incremental` writes them.
enum IncrementalCombiner {
    /// The chain the staged backup ends; nil when it is a full backup (or not a plain-format one).
    static func chain(_ staged: StagedBackup, drill: DrillConfig) throws -> IncrementalChain? {
        guard let newest = member(staged.path), newest.isIncremental else { return nil }
        let location = drill.backup.location
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: location, isDirectory: &isDir), isDir.boolValue else {
            throw DrillError(.unsupported,
                             "\(staged.path) is an incremental backup: drill combines incremental chains from a local backup.location only")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: location)) ?? []
        let candidates = names.sorted().compactMap { member((location as NSString).appendingPathComponent($0)) }
        let newestInLocation = candidates.first { $0.label == newest.label }.map { m in
            IncrementalChain.Member(name: m.name, path: staged.path, label: m.label)
        } ?? newest
        return try IncrementalChain.resolve(newest: newestInLocation, candidates: candidates,
                                            location: URLRedaction.redactURLs(in: location), history: history(drill.wal?.location))
    }

    /// A plain-format backup folder and its `backup_label`.
    static func member(_ folder: String) -> IncrementalChain.Member? {
        let path = (folder as NSString).appendingPathComponent("backup_label")
        guard let data = FileManager.default.contents(atPath: path),
              let label = try? BackupLabel.parse(String(decoding: data, as: UTF8.self)) else { return nil }
        return IncrementalChain.Member(name: (folder as NSString).lastPathComponent, path: folder, label: label)
    }

    /// The labels of the backups the WAL archive's history files (`<segment>.<offset>.backup`) describe, by start
    /// location: they name a missing backup of the chain (local archives only).
    static func history(_ walLocation: String?) -> [LSN: String] {
        guard let walLocation, walLocation.hasPrefix("/") else { return [:] }
        var out: [LSN: String] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: walLocation)) ?? [] where name.hasSuffix(".backup") {
            guard let data = FileManager.default.contents(atPath: (walLocation as NSString).appendingPathComponent(name)),
                  let label = try? BackupLabel.parse(String(decoding: data, as: UTF8.self)), let text = label.label else { continue }
            out[label.startLSN] = text
        }
        return out
    }

    /// `pg_combinebackup` arguments: the chain, full backup first, into `output`.
    static func arguments(_ chain: IncrementalChain, output: String) -> [String] {
        chain.members.map(\.path) + ["--output=\(output)"]
    }

    /// Runs `pg_combinebackup` into `<directory>/combined`.
    static func combine(_ chain: IncrementalChain, binaries: PostgresBinaries, into directory: String) async throws -> StagedBackup {
        let tool = binaries.path("pg_combinebackup")
        guard binaries.has("pg_combinebackup") else {
            throw DrillError(.noPostgres, "\(binaries.directory) has no pg_combinebackup (PostgreSQL 17 or newer combines incremental backups)")
        }
        let output = (directory as NSString).appendingPathComponent("combined")
        let r = await ChildProcess.runCancellable(ProcessSpec(executable: tool, arguments: arguments(chain, output: output),
                                                              unsetEnvironment: ["PG*"], stderr: .capture(limit: 32 * 1024)))
        try Task.checkCancellation()
        guard r.succeeded else {
            try? FileManager.default.removeItem(atPath: output)
            throw DrillError(.backupCorrupt, "pg_combinebackup could not combine \(chain.description): \(lastError(r.stderr))")
        }
        return StagedBackup(path: output, isDirectory: true, sizeBytes: folderBytes(output), sha256: "", isTemporary: true)
    }

    private static func folderBytes(_ path: String) -> Int64 {
        var total: Int64 = 0
        let e = FileManager.default.enumerator(atPath: path)
        while let f = e?.nextObject() as? String {
            if let size = (try? FileManager.default.attributesOfItem(atPath: (path as NSString).appendingPathComponent(f)))?[.size] as? NSNumber {
                total += size.int64Value
            }
        }
        return total
    }
}

extension BaseBackupRestorer {
    public func incrementalChain(_ staged: StagedBackup, drill: DrillConfig) async throws -> IncrementalChain? {
        try IncrementalCombiner.chain(staged, drill: drill)
    }

    public func combine(_ chain: IncrementalChain, postgres: PostgresInstallation?, into directory: String) async throws -> StagedBackup {
        let found: PostgresBinaries? = if let postgres { postgres.binaries } else { await PostgresBinaries.discover() }
        guard let binaries = found else { throw DrillError(.noPostgres, "no PostgreSQL found to run pg_combinebackup") }
        return try await IncrementalCombiner.combine(chain, binaries: binaries, into: directory)
    }
}
