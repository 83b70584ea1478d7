import DrillCore
import Foundation

/// An incremental chain (PostgreSQL 17+) becomes the data folder in two steps, both as the server's account: every
/// backup of the chain is copied into a private folder exactly as a single backup is put into the data folder (tar
/// format extracted, plain format copied through tar, so a device node or set-user-ID file in any of them fails the
/// drill), then `pg_combinebackup` of the backup's major combines the copies into the data folder. The backups
/// themselves are only read, and `pg_combinebackup` never runs with drill's rights on what a backup holds.
extension BaseBackupSession {
    public func copyChain(_ chain: IncrementalChain) async throws -> CopiedChain {
        let fm = FileManager.default
        let parent = (cluster.root as NSString).appendingPathComponent("chain")
        try makePrivateFolder(parent)
        var folders: [String] = []
        var bytes: Int64 = 0
        for (index, member) in chain.members.enumerated() {
            try Task.checkCancellation()
            let folder = (parent as NSString).appendingPathComponent(String(format: "%02d", index))
            try makePrivateFolder(folder)
            try await populate(folder, from: member.path)
            // A tar-format backup keeps its manifest beside the archives; pg_combinebackup reads it inside the folder.
            let manifest = (member.path as NSString).appendingPathComponent("backup_manifest")
            let copied = (folder as NSString).appendingPathComponent("backup_manifest")
            if BaseBackupSession.baseArchive(in: member.path) != nil, fm.fileExists(atPath: manifest) {
                try fm.copyItem(atPath: manifest, toPath: copied)
                if let runAs = cluster.runAs { try runAs.chown(copied) }
            }
            folders.append(folder)
            bytes += ToolRestoredSession.bytes(under: member.path)
        }
        return CopiedChain(folders: folders, bytes: bytes)
    }

    public func combineChain(_ copied: CopiedChain) async throws -> ExtractedBackup {
        let tool = cluster.binaries.path("pg_combinebackup")
        guard cluster.binaries.has("pg_combinebackup") else {
            throw DrillError(.noPostgres, "\(cluster.binaries.directory) has no pg_combinebackup (PostgreSQL 17 or newer combines incremental backups)")
        }
        let major = copied.folders.first
            .flatMap { FileManager.default.contents(atPath: ($0 as NSString).appendingPathComponent("PG_VERSION")) }
            .flatMap { PostgresVersion(parsing: String(decoding: $0, as: UTF8.self)) }?.major ?? 0
        let spec = cluster.serverSpec(tool, Self.combineArguments(copied.folders, output: cluster.dataDirectory, major: major),
                                      stdout: .null, stderr: .capture(limit: 32 * 1024))
        let r = await ChildProcess.runCancellable(spec)
        try Task.checkCancellation()
        guard r.succeeded else {
            throw DrillError(.backupCorrupt, "pg_combinebackup could not combine the chain: \(lastError(r.stderr))")
        }
        if let parent = copied.folders.first.map({ ($0 as NSString).deletingLastPathComponent }) {
            try? FileManager.default.removeItem(atPath: parent)
        }
        return try await finishExtraction(bytes: copied.bytes)
    }

    /// `pg_combinebackup` of the copies, full backup first, into the (empty) data folder. From PostgreSQL 18 the
    /// output hard-links the files it takes whole from a copy (`--link`): the copies are deleted right after, so
    /// nothing else sees them, and the full backup is not written a second time. No fsync: the cluster is scratch.
    public static func combineArguments(_ folders: [String], output: String, major: Int) -> [String] {
        folders + ["--output=\(output)", "--no-sync"] + (major >= 18 ? ["--link"] : [])
    }

    /// A folder of the scratch cluster only its account can enter.
    private func makePrivateFolder(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        if let runAs = cluster.runAs { try runAs.chown(path) }
    }

}
