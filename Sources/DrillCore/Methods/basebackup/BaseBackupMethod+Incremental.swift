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
