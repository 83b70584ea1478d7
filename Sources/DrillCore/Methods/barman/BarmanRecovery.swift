import Foundation

/// The WAL side of a Barman drill, shared by `barman` and `barman-cloud`: what the catalogue says about the backup's
/// WAL (its start and end segments, when it ended) for the physical methods' shared `WALReplay`, and the backup's
/// PostgreSQL version.
enum BarmanRecovery {
    /// The backup's start segment (`begin_wal`), for a WAL archive of `segmentSize`-byte segments.
    static func startSegment(_ backup: BarmanBackup, segmentSize: UInt64) throws -> WALSegment {
        guard let name = backup.beginWAL, let seg = WALSegment(name: name, segmentSize: segmentSize) else {
            throw DrillError(.backupCorrupt, "the catalogue gives backup \(backup.id) no valid begin_wal (\(backup.beginWAL ?? "none"))")
        }
        return seg
    }

    /// The listing `WALReplay` plans from: the archive from the backup's `begin_wal`, its `end_wal` (the WAL it needs
    /// to be consistent) and end time. Records the backup's side of the `wal` block.
    static func listing(_ backup: BarmanBackup, _ archive: WALArchive, segmentSize: UInt64, _ run: MethodRun) throws -> WALListing {
        let start = try startSegment(backup, segmentSize: segmentSize)
        guard let end = backup.endTime else {
            throw DrillError(.backupCorrupt, "the catalogue gives backup \(backup.id) no end time")
        }
        run.evidence(DrillReport.WAL.self) {
            $0.startSegment = start.name
            $0.backupEndAt = end
            $0.backupEndSource = backup.timeSource.map { "barman_\($0)" } ?? "barman"
        }
        return WALListing(archive: archive, start: start, stop: backup.endWAL.flatMap { WALSegment(name: $0, segmentSize: segmentSize) },
                          backupEnd: end, segmentSize: segmentSize, backupName: "Backup \(backup.id)")
    }
}

extension BarmanBackup {
    /// The PostgreSQL the backup needs: its major (`server_version_num` as the catalogue records it).
    public func versionNeed(source: String) -> VersionNeed? {
        guard let n = postgresVersion, n > 0 else { return nil }
        // 150018 → 15.18; before 10 the number was 90624 (9.6.24): the first number is what PG_VERSION says (9).
        let version = n >= 100_000 ? PostgresVersion(major: n / 10_000, minor: n % 10_000) : PostgresVersion(major: n / 10_000, minor: nil)
        return VersionNeed(version: version, rule: .sameMajor, source: source)
    }
}
