import DrillCore
import Foundation
import Logging

/// Restores `pg_basebackup` backups into a private scratch cluster built from the backup itself (no `initdb`): the
/// live `PhysicalRestorer`.
public struct BaseBackupRestorer: PhysicalRestorer {
    public var scratchRoot: String
    public var logger: Logger
    public var memoryBytes: UInt64

    public init(scratchRoot: String, logger: Logger, memoryBytes: UInt64 = ProcessInfo.processInfo.physicalMemory) {
        self.scratchRoot = scratchRoot
        self.logger = logger
        self.memoryBytes = memoryBytes
    }

    public func prepare(drill: DrillConfig, profile: RestoreProfile) async throws -> any PhysicalSession {
        try await prepare(drill: drill, profile: profile, postgres: nil)
    }

    /// With `postgres` (the backup's major), its server programs recover the backup.
    public func prepare(drill: DrillConfig, profile: RestoreProfile, postgres: PostgresInstallation?) async throws -> any PhysicalSession {
        try await BaseBackupSession.create(drill: drill, profile: profile, postgres: postgres, scratchRoot: scratchRoot,
                                           memoryBytes: memoryBytes, logger: logger)
    }

    /// `PG_VERSION` of a staged base backup: the file of a plain-format folder, or the member of `base.tar[.gz]`.
    public func backupVersion(_ staged: StagedBackup) async -> PostgresVersion? {
        await BaseBackupVersion.read(staged.path)
    }
}
