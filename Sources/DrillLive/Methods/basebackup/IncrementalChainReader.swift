import DrillCore
import Foundation
import Logging

/// Finds the chain of a PostgreSQL 17+ incremental base backup among the backup folders beside it in a local
/// `backup.location`, plain or tar format, as `pg_basebackup --incremental` writes them. The session copies and
/// combines it (`BaseBackupSession+Incremental.swift`).
enum IncrementalChainReader {
    /// The chain the backup folder ends; nil when it is a full backup (or not a base backup folder).
    static func chain(_ staged: StagedBackup, drill: DrillConfig) async throws -> IncrementalChain? {
        guard let newest = await member(staged.path), newest.isIncremental else { return nil }
        let location = drill.backup.location
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: location, isDirectory: &isDir), isDir.boolValue else {
            throw DrillError(.unsupported,
                             "\(staged.path) is an incremental backup: drill combines incremental chains from a local backup.location only")
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: location)) ?? []
        var candidates: [IncrementalChain.Member] = []
        for name in names.sorted() {
            if let m = await member((location as NSString).appendingPathComponent(name)) { candidates.append(m) }
        }
        let newestInLocation = candidates.first { $0.label == newest.label }.map { m in
            IncrementalChain.Member(name: m.name, path: staged.path, label: m.label)
        } ?? newest
        return try IncrementalChain.resolve(newest: newestInLocation, candidates: candidates,
                                            location: URLRedaction.redactURLs(in: location), history: history(drill.wal?.location))
    }

    /// A backup folder and its `backup_label`: the file of a plain-format folder, or the member of its base archive
    /// (`base.tar[.gz|.lz4|.zst]`, read with `tar -xO`, nothing written).
    static func member(_ folder: String) async -> IncrementalChain.Member? {
        let fm = FileManager.default
        let name = (folder as NSString).lastPathComponent
        func parse(_ data: Data) -> IncrementalChain.Member? {
            (try? BackupLabel.parse(String(decoding: data, as: UTF8.self))).map { IncrementalChain.Member(name: name, path: folder, label: $0) }
        }
        if let data = fm.contents(atPath: (folder as NSString).appendingPathComponent("backup_label")) { return parse(data) }
        guard let archive = BaseBackupSession.baseArchive(in: folder),
              let text = await BaseBackupVersion.member(BaseBackupVersion.labelArguments((folder as NSString).appendingPathComponent(archive)),
                                                        limit: 64 * 1024) else { return nil }
        return parse(Data(text.utf8))
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
}

extension BaseBackupRestorer {
    public func incrementalChain(_ staged: StagedBackup, drill: DrillConfig) async throws -> IncrementalChain? {
        try await IncrementalChainReader.chain(staged, drill: drill)
    }
}
