import Foundation

/// The WAL side of a basebackup drill: the archive listed from the store and the backup's end found from the backup
/// history file PostgreSQL archived; gap check, target and delivery are the physical methods' shared `WALReplay`.
extension BaseBackupMethod {
    /// Lists the WAL archive, settles when the backup ended, and starts delivering what replay needs into the
    /// session's private WAL folder (the `wal_fetch` phase, closed when the last file is in place).
    func startWAL(_ walConfig: WALConfig, label: BackupLabel, segmentSize: UInt64, includesWAL: Bool,
                  _ located: LocatedBackup, _ store: any BackupStore, _ session: any PhysicalSession,
                  _ replay: WALReplay<DrillReport.WAL>) async throws -> WALDelivery {
        try await replay.start(detail: walConfig.location, tuning: walConfig.tuning, list: {
            guard let start = label.startSegment(segmentSize: segmentSize) else {
                throw DrillError(.backupCorrupt, "backup_label names an invalid start segment \(label.startSegmentName)")
            }
            let archive = WALArchive(objects: try await store.list(matching: nil), segmentSize: segmentSize)
            let end = try await backupEnd(label, segmentSize: segmentSize, located, archive, store, session, replay.run)
            return WALListing(archive: archive, start: start, stop: end.stopSegment, backupEnd: end.time, segmentSize: segmentSize,
                              backupName: "The backup", carriesOwnWAL: includesWAL)
        }, deliver: { files, options in
            try await session.deliverWAL(files, from: store, options: options, progress: nil)
        })
    }

    /// When the base backup ended: the STOP TIME of the backup history file PostgreSQL archived (fetched into the WAL
    /// folder), else that file's time, else the backup's own modification time.
    private func backupEnd(_ label: BackupLabel, segmentSize: UInt64, _ located: LocatedBackup, _ archive: WALArchive,
                           _ store: any BackupStore, _ session: any PhysicalSession,
                           _ run: MethodRun) async throws -> (time: Date, stopSegment: WALSegment?) {
        var end = (time: located.object.modifiedAt, stopSegment: WALSegment?.none)
        var source = "backup_mtime"
        let name = label.historyFileName(segmentSize: segmentSize)
        if let file = archive.backupHistories[name] {
            let fetched = try await session.importWAL(file, from: store)
            run.evidence(DrillReport.WAL.self) { $0.bytesFetched += fetched }
            let path = (session.walDirectory as NSString).appendingPathComponent(name)
            let history = FileManager.default.contents(atPath: path).flatMap { try? BackupLabel.parse(String(decoding: $0, as: UTF8.self)) }
            end.stopSegment = history?.stopSegmentName.flatMap { WALSegment(name: $0, segmentSize: segmentSize) }
            if let stop = history?.stopTime {
                // STOP TIME has whole seconds: the backup ended before the next one began, and no later than this
                // drill's start when STOP TIME's second had begun by then (a drill started within a second of the
                // backup is not shown a backup from the future).
                end.time = min(stop.addingTimeInterval(1), max(stop, run.drillStart))
                source = "backup_history_file"
            } else {
                end.time = file.object.modifiedAt
                source = "backup_history_mtime"
            }
        }
        let result = end
        run.evidence(DrillReport.WAL.self) {
            $0.backupEndAt = result.time
            $0.backupEndSource = source
        }
        return end
    }
}

extension BackupLabel {
    /// The WAL segment size `START WAL LOCATION` implies (its LSN and its file name agree for one power of two), or
    /// nil when several sizes fit (a backup in the very first segments of a cluster).
    public var impliedSegmentSize: UInt64? {
        let fits = (20...30).map { UInt64(1) << UInt64($0) }.filter { size in
            WALSegment(lsn: startLSN, timeline: UInt32(startSegmentName.prefix(8), radix: 16) ?? 1, segmentSize: size).name == startSegmentName
        }
        return fits.count == 1 ? fits[0] : nil
    }
}
