import Foundation

extension BaseBackupMethod {
    /// The incremental chain (PostgreSQL 17+) the newest backup ends, when it is a local folder; nil for a full backup
    /// or a backup elsewhere. Throws naming a missing link, before anything is provisioned.
    func localChain(_ drill: DrillConfig, _ located: LocatedBackup) async throws -> IncrementalChain? {
        guard let restorer, located.object.isDirectory, let path = located.object.localPath else { return nil }
        let view = StagedBackup(path: path, isDirectory: true, sizeBytes: located.object.sizeBytes ?? 0, sha256: "", isTemporary: false)
        return try await restorer.incrementalChain(view, drill: drill)
    }

    /// An incremental chain becomes the data folder inside the extract phase: each backup is copied into the scratch
    /// cluster (as its account, like any backup), then the `combine` phase runs `pg_combinebackup` on the copies
    /// into the data folder. The chain is recorded in the `wal` evidence by `recover`.
    func extractChain(_ chain: IncrementalChain, _ session: any PhysicalSession, _ run: MethodRun) async throws -> ExtractedBackup {
        run.logger.info("incremental backup", metadata: ["chain": "\(chain.description)"])
        let copied = try await session.copyChain(chain)
        return try await run.phase(.combine, detail: "pg_combinebackup \(chain.description)") {
            try await session.combineChain(copied)
        }
    }
}

extension BaseBackupMethod {
    /// The newest base backup's major (`PG_VERSION`), when it is a local folder.
    public func versionNeed(_ drill: DrillConfig, _ context: MethodContext) async throws -> VersionNeed? {
        let located = try await BackupLocator(stores: context.stores, archiveTimeZone: context.archiveTimeZone, now: context.now())
            .locate(drill)
        guard let path = located.object.localPath, let restorer else { return nil }
        let folder = StagedBackup(path: path, isDirectory: true, sizeBytes: located.object.sizeBytes ?? 0, sha256: "", isTemporary: false)
        return await restorer.backupVersion(folder).map { VersionNeed(version: $0, rule: .sameMajor, source: "PG_VERSION") }
    }
}
