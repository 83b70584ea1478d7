import Foundation

/// The pgBackRest drill: a backup in a pgBackRest repository, restored with `pgbackrest restore` into a private scratch
/// cluster, recovered from the repository's WAL archive. Phases: fetch (`pgbackrest info`: which backup) → verify
/// (`pgbackrest verify`) → provision → restore (`pgbackrest restore`) → wal_fetch (drill runs `pgbackrest archive-get`
/// into the session's private WAL folder) → wal_replay (the scratch server replays from that folder and is promoted).
///
/// The repository is only read: the restored copy runs with `archive_mode = off` and never runs pgBackRest, so it
/// never pushes its new timeline into the repository.
public struct PgBackRestMethod: DrillMethod {
    /// Runs pgBackRest; nil when this build cannot.
    public var tool: (any PgBackRestTool)?

    public init(tool: (any PgBackRestTool)?) { self.tool = tool }

    public func locate(_ drill: DrillConfig, _ context: MethodContext) async throws -> RestorePoint {
        let (s, tool) = try parts(drill)
        let info = try await readInfo(s, tool)
        let backup = try PgBackRestChoice.backup(in: info, settings: s, target: RecoveryTarget(drill.recovery?.target ?? "latest") ?? .latest)
        return Self.restorePoint(backup, s)
    }

    /// Every backup of the stanza in the repository (`pgbackrest info`), for retention coverage.
    public func restorePoints(_ drill: DrillConfig, _ context: MethodContext) async throws -> [RestorePoint] {
        var (s, tool) = try parts(drill)
        s.set = nil
        return try await readInfo(s, tool).backups(repo: s.repo).map { Self.restorePoint($0, s) }
    }

    /// A restore now would reach the newest archived WAL segment (its time in the repository); without one, the
    /// newest backup's end.
    public func plan(_ drill: DrillConfig, _ context: MethodContext) async throws -> PlanPoint {
        let (s, tool) = try parts(drill)
        let info = try await readInfo(s, tool)
        let backup = try PgBackRestChoice.backup(in: info, settings: s, target: .latest)
        let point = Self.restorePoint(backup, s)
        if let archive = info.archive(for: backup), let newest = try? await newestSegment(archive, s, tool) {
            return PlanPoint(point: point, newestRecoverable: newest.modifiedAt,
                             newestRecoverableSource: "pgbackrest archive, newest segment \(newest.walName)")
        }
        return PlanPoint(point: point, newestRecoverable: backup.stoppedAt, newestRecoverableSource: "pgbackrest backup stop time")
    }

    public func restore(_ drill: DrillConfig, _ run: MethodRun) async throws -> Restored {
        let (s, tool) = try parts(drill)
        guard drill.target == .embedded else {
            throw DrillError(.configuration, "a pgbackrest backup is restored into a private scratch cluster: target.kind must be embedded")
        }
        let target = RecoveryTarget(drill.recovery?.target ?? "latest") ?? .latest
        run.evidence(PgBackRestEvidence(stanza: s.stanza, repo: s.repo, config: s.config, target: target.description))
        run.restoreInfo { $0.jobs = 1 }

        // fetch: which backup (metadata only; pgBackRest reads the backup itself during restore).
        let (info, backup) = try await run.phase(.fetch, detail: "pgbackrest info, stanza \(s.stanza), repo \(s.repo)") {
            let version = await tool.version()
            run.evidence(PgBackRestEvidence.self) { $0.toolVersion = version }
            let info = try await readInfo(s, tool)
            return (info, try PgBackRestChoice.backup(in: info, settings: s, target: target))
        }
        let archive = info.archive(for: backup)
        // pgBackRest restores straight from the repository: nothing is staged.
        try await run.located(Self.restorePoint(backup, s), staged: false)
        run.evidence(PgBackRestEvidence.self) { $0.describe(backup, archive: archive, database: info.database(for: backup)) }
        if backup.error == true {
            run.finding("pgBackRest recorded errors (page checksum failures) while taking backup \(backup.label).")
        }
        run.logger.info("pgbackrest backup", metadata: ["label": "\(backup.label)", "type": "\(backup.type)"])

        try await run.phase(.verify, detail: "pgbackrest verify") { try await verify(backup, archive, s, tool, run) }

        let session = try await run.phase(.provision, detail: "scratch cluster for pgbackrest restore") {
            run.adopt(try await tool.prepare(drill: drill, profile: drill.restore.profile,
                                             postgresVersion: info.database(for: backup)?.version))
        }
        let explicit: Date? = if case .time(let t) = target { t } else { nil }
        let restored = try await run.phase(.restore, detail: "pgbackrest restore --set=\(backup.label)") {
            try await session.restore(s, set: backup.label, target: explicit)
        }
        run.restoreInfo {
            $0.mode = "file"
            $0.toolSeconds = restored.toolSeconds
        }

        let targetTime = try await run.phase(.walFetch, detail: "pgbackrest archive-get") {
            try await fetchWAL(backup, archive, restored, target: target, s, tool, session, run)
        }

        let outcome = try await run.phase(.walReplay, detail: targetTime.map { "to \(RFC3339.format($0, fractional: true))" } ?? "to the end of the archive") {
            try await session.recover(target: targetTime)
        }
        run.evidence(PgBackRestEvidence.self) {
            $0.replayedTo = outcome.replayLSN
            $0.timeline = outcome.timeline
        }
        let version = run.currentEvidence(PgBackRestEvidence.self)?.toolVersion
        run.restoreInfo {
            $0.tool = (version ?? "pgbackrest") + " restore, postgres (archive recovery)"
            $0.toolVersion = outcome.serverVersion
        }
        if let commit = outcome.lastReplayedCommit {
            return Restored(database: session, recoveryPoint: commit, recoveryPointSource: "wal_replay", rpoReference: targetTime)
        }
        // No transaction was replayed after the backup: the backup's end is the recovery point.
        return Restored(database: session, recoveryPoint: backup.stoppedAt, recoveryPointSource: "backup_end", rpoReference: targetTime)
    }

    // MARK: Steps

    private func parts(_ drill: DrillConfig) throws -> (PgBackRestSettings, any PgBackRestTool) {
        let s = try drill.settings(as: PgBackRestSettings.self, kind: .pgbackrest)
        guard let tool else { throw DrillError(.unsupported, "this build of drill cannot restore pgbackrest backups") }
        return (s, tool)
    }

    private func readInfo(_ s: PgBackRestSettings, _ tool: any PgBackRestTool) async throws -> PgBackRestInfo {
        let info = try await tool.info(s, set: s.set)
        if let problem = info.problem(repo: s.repo) { throw PgBackRestChoice.error(problem, s) }
        return info
    }

    /// Runs verify and records its result; a problem in the backup to restore (or its references, or the WAL it
    /// needs) fails the drill before anything is restored, any other problem is a finding.
    private func verify(_ backup: PgBackRestInfo.Backup, _ archive: PgBackRestInfo.Archive?, _ s: PgBackRestSettings,
                        _ tool: any PgBackRestTool, _ run: MethodRun) async throws {
        let result = try await tool.verify(s)
        run.evidence(PgBackRestEvidence.self) {
            $0.verify = PgBackRestEvidence.Verify(
                status: result.status ?? "unknown", backupStatus: result.backup(backup.label)?.status,
                backupsChecked: result.backups.count, filesChecked: result.backups.reduce(0) { $0 + $1.checked },
                walChecked: result.archives.reduce(0) { $0 + $1.checked }, damaged: result.damaged, summary: result.summary)
        }
        if let problem = result.problem(for: backup, archiveID: archive?.id) {
            throw DrillError(.backupCorrupt, "pgbackrest verify found the backup damaged: \(problem)")
        }
        if !result.isOK {
            run.finding("pgbackrest verify reports problems that do not affect backup \(backup.label): \(result.summary)")
        }
        for w in result.warnings.prefix(3) { run.finding("pgbackrest verify: \(w)") }
    }

    /// Lists the archive, finds gaps, settles the target, and fetches what replay needs into the session's private WAL
    /// folder with `archive-get`. Returns the time recovery stops at (nil: the end of the archive).
    private func fetchWAL(_ backup: PgBackRestInfo.Backup, _ archive: PgBackRestInfo.Archive?, _ restored: PgBackRestRestoreOutcome,
                          target: RecoveryTarget, _ s: PgBackRestSettings, _ tool: any PgBackRestTool,
                          _ session: any PgBackRestSession, _ run: MethodRun) async throws -> Date? {
        let segmentSize = restored.walSegmentSize
        guard let archive else {
            throw DrillError(.walGap, "the repository has no WAL archive for the cluster backup \(backup.label) belongs to (database id \(backup.databaseID)): point-in-time recovery is impossible")
        }
        guard let startName = backup.walStart, let start = WALSegment(name: startName, segmentSize: segmentSize) else {
            throw DrillError(.backupCorrupt, "pgbackrest info names no valid start segment for backup \(backup.label) (\(backup.walStart ?? "none"))")
        }
        let entries = try await tool.archiveListing(s, archiveID: archive.id, folder: nil)
        let walArchive = WALArchive(objects: PgBackRestArchiveListing.objects(entries, uriPrefix: "archive/\(s.stanza)/\(archive.id)/"),
                                    segmentSize: segmentSize)
        let plan = walArchive.plan(from: start)
        run.evidence(PgBackRestEvidence.self) {
            $0.newestSegment = walArchive.newest?.segment.name
            $0.newestSegmentAt = walArchive.newest?.file.object.modifiedAt
            $0.firstMissingSegment = plan.firstMissing?.name
        }
        if let finding = plan.gapFinding {
            if let stop = backup.walStop.flatMap({ WALSegment(name: $0, segmentSize: segmentSize) }),
               plan.lastContiguous.map({ $0.number < stop.number }) ?? true {
                throw DrillError(.walGap, finding + " The backup itself cannot be made consistent: it needs WAL up to \(stop.name).")
            }
            throw DrillError(.walGap, finding)
        }

        var bytes: Int64 = 0
        var segments = 0
        for file in plan.histories + plan.segments {
            try Task.checkCancellation()
            guard let size = try await session.fetchWAL(s, file.walName) else {
                throw DrillError(.walGap, "pgbackrest archive-get cannot find \(file.walName), which repo-ls lists in archive \(archive.id)")
            }
            bytes += size
            if WALSegment(name: file.walName, segmentSize: segmentSize) != nil { segments += 1 }
            run.observer.transfer(done: bytes, total: nil)
            let (b, n) = (bytes, segments)
            run.evidence(PgBackRestEvidence.self) {
                $0.bytesFetched = b
                $0.segmentsFetched = n
            }
        }

        var archiveEnd: Date?
        if target == .random, let last = plan.lastContiguous {
            let first = plan.segments.lazy.compactMap { WALSegment(name: $0.walName, segmentSize: segmentSize) }
                .first { $0.timeline == last.timeline } ?? start
            archiveEnd = await session.lastCommit(from: first, to: last) ?? walArchive.newest?.file.object.modifiedAt
        }
        let targetTime = try target.resolve(backupEnd: backup.endsBy, archiveEnd: archiveEnd, unit: run.randomUnit)
        run.evidence(PgBackRestEvidence.self) { $0.targetTime = targetTime }
        return targetTime
    }

    /// The newest archived segment of `archive`, with its time in the repository.
    private func newestSegment(_ archive: PgBackRestInfo.Archive, _ s: PgBackRestSettings, _ tool: any PgBackRestTool) async throws
        -> PgBackRestArchiveListing.Entry? {
        guard let max = archive.max, max.count == 24 else { return nil }
        let entries = try await tool.archiveListing(s, archiveID: archive.id, folder: String(max.prefix(16)))
        return entries.first { $0.walName == max }
    }

    static func restorePoint(_ b: PgBackRestInfo.Backup, _ s: PgBackRestSettings) -> RestorePoint {
        RestorePoint(uri: s.source, name: b.label, format: "pgbackrest \(b.type)", sizeBytes: b.sizeBytes, modifiedAt: b.stoppedAt,
                     createdAt: b.stoppedAt, recoveryPoint: nil, recoveryPointSource: nil, payload: b)
    }
}

/// Which backup of a repository a drill restores.
public enum PgBackRestChoice {
    /// `backup.set` when given (it must be in the repository, and end before an explicit target); else the newest
    /// backup for `latest` and `random`, and for a time the newest backup that ended before it (as pgBackRest itself
    /// chooses).
    public static func backup(in info: PgBackRestInfo, settings s: PgBackRestSettings, target: RecoveryTarget) throws -> PgBackRestInfo.Backup {
        let backups = info.backups(repo: s.repo)
        if let set = s.set {
            guard let b = backups.first(where: { $0.label == set }) else {
                throw DrillError(.backupNotFound, "backup set \(set) is not in repo \(s.repo) of stanza \(s.stanza)"
                                 + (backups.isEmpty ? "" : " (it holds: \(backups.map(\.label).joined(separator: ", ")))"))
            }
            if case .time(let t) = target, t < b.endsBy {
                throw DrillError(.configuration, "recovery.target \(RFC3339.format(t, fractional: true)) is before the end of backup set \(set) (\(RFC3339.format(b.endsBy))): PostgreSQL cannot stop there; choose a later target or an older backup.set")
            }
            return b
        }
        guard let newest = backups.last else {
            throw DrillError(.backupNotFound, "stanza \(s.stanza) has no backups in repo \(s.repo)")
        }
        guard case .time(let t) = target else { return newest }
        guard let b = backups.last(where: { $0.endsBy <= t }) else {
            throw DrillError(.configuration, "recovery.target \(RFC3339.format(t, fractional: true)) is before the end of the oldest backup in repo \(s.repo) of stanza \(s.stanza) (\(backups.first.map { RFC3339.format($0.endsBy) } ?? "")): no backup can recover to it")
        }
        return b
    }

    /// The drill error for a problem `pgbackrest info` reports.
    public static func error(_ status: PgBackRestInfo.Status, _ s: PgBackRestSettings) -> DrillError {
        switch status.code {
        case 1, 3:
            DrillError(.backupNotFound, "pgBackRest finds no stanza \(s.stanza) in repo \(s.repo) (\(status.message)): check backup.stanza and that the repository settings are production's")
        case 2:
            DrillError(.backupNotFound, "stanza \(s.stanza) has no valid backups in repo \(s.repo) (\(status.message))")
        case 6:
            DrillError(.backupNotFound, "backup set \(s.set ?? "") is not in repo \(s.repo) of stanza \(s.stanza) (\(status.message))")
        default:
            DrillError(.backupUnreadable, "pgBackRest cannot read repo \(s.repo) of stanza \(s.stanza): \(status.brief)")
        }
    }
}
