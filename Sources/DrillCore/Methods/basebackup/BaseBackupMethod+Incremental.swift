import Foundation

extension BaseBackupMethod {
    /// An incremental backup (PostgreSQL 17+) is first combined with its chain into one full backup (the `combine`
    /// phase; the chain is recorded in the `wal` evidence by `recover`). Nil for a full backup.
    func combine(_ chain: IncrementalChain?, postgres: PostgresInstallation?, _ run: MethodRun) async throws -> StagedBackup? {
        guard let chain, let restorer else { return nil }
        run.logger.info("incremental backup", metadata: ["chain": "\(chain.description)"])
        return try await run.phase(.combine, detail: "pg_combinebackup \(chain.description)") {
            try await restorer.combine(chain, postgres: postgres, into: try run.stagingDirectory())
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
