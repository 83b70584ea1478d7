import Foundation

/// Checks a fetched backup's SHA-256 against its `<name>.sha256` sidecar, as `backup.verify` asks.
enum SidecarCheck {
    static func verify(_ backup: BackupConfig, _ located: LocatedBackup, digest: String, _ run: MethodRun) async throws {
        guard backup.verify != .off else {
            run.backup { $0.sidecar = "off" }
            return
        }
        let expected = try await located.store.sidecarDigest(for: located.object)
        guard let expected else {
            run.backup { $0.sidecar = "absent" }
            if backup.verify == .required {
                throw DrillError(.digestMismatch, "backup.verify is required, but \(located.object.name).sha256 does not exist")
            }
            return
        }
        if expected == digest {
            run.backup { $0.sidecar = "match" }
        } else {
            run.backup { $0.sidecar = "mismatch" }
            throw DrillError(.digestMismatch,
                             "SHA-256 of \(located.object.name) is \(digest), but its .sha256 sidecar says \(expected): the backup is corrupt or was replaced")
        }
    }
}

extension LocatedBackup {
    /// The restore point as the report shows it.
    func restorePoint(archiveTimeZone: TimeZone, withRecoveryPoint: Bool) -> RestorePoint {
        RestorePoint(uri: object.uri, name: object.name, format: format.rawValue, sizeBytes: object.sizeBytes,
                     modifiedAt: object.modifiedAt, createdAt: header?.createdAt(in: archiveTimeZone),
                     recoveryPoint: withRecoveryPoint ? recoveryPoint : nil,
                     recoveryPointSource: withRecoveryPoint ? recoveryPointSource : nil, payload: self)
    }
}
