import Foundation

/// The pgBackRest drill: a backup in a pgBackRest repository, restored with `pgbackrest restore` into a private scratch
/// cluster, recovered from the repository's WAL archive. Phases: fetch (`pgbackrest info`: which backup) → verify
/// (`pgbackrest verify`) → provision (with the PostgreSQL of the backup's major) → restore (`pgbackrest restore`) →
/// wal_fetch (drill runs `pgbackrest archive-get` into the session's private WAL folder, several at once, while the
/// server replays) ∥ wal_replay (the scratch server replays from that folder and is promoted).
///
/// The repository is only read: the restored copy runs with `archive_mode = off` and never runs pgBackRest, so it
/// never pushes its new timeline into the repository.
public struct PgBackRestMethod: DrillMethod {
    /// Runs pgBackRest; nil when this build cannot.
    public var tool: (any PgBackRestTool)?
    /// The installed PostgreSQL versions, to choose the backup's major; nil: the tool's default.
    public var postgres: (any PostgresCatalog)?

    public init(tool: (any PgBackRestTool)?, postgres: (any PostgresCatalog)? = nil) {
        self.tool = tool
        self.postgres = postgres
    }

    /// The newest backup's PostgreSQL major, as `pgbackrest info` records it (for `drill plan`).
    public func versionNeed(_ drill: DrillConfig, _ context: MethodContext) async throws -> VersionNeed? {
        let (s, tool) = try parts(drill)
        let info = try await readInfo(s, tool)
        let backup = try PgBackRestChoice.backup(in: info, settings: s, target: RecoveryTarget(drill.recovery?.target ?? "latest") ?? .latest)
        return Self.versionNeed(info, backup)
    }

    static func versionNeed(_ info: PgBackRestInfo, _ backup: PgBackRestInfo.Backup) -> VersionNeed? {
        info.database(for: backup)?.version.flatMap(PostgresVersion.init(parsing:))
            .map { VersionNeed(version: $0, rule: .sameMajor, source: "pgbackrest info") }
    }

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

        // The PostgreSQL of the backup's major, chosen before anything is verified or provisioned.
        let chosen = try await run.choosePostgres(Self.versionNeed(info, backup), catalog: postgres, drill: drill, needsServer: true)

        try await run.phase(.verify, detail: "pgbackrest verify") { try await verify(backup, archive, s, tool, run) }

        let session = try await run.phase(.provision, detail: "scratch cluster for pgbackrest restore") {
            run.adopt(try await tool.prepare(drill: drill, profile: drill.restore.profile, postgres: chosen))
        }
        let explicit: Date? = if case .time(let t) = target { t } else { nil }
        let restored = try await run.phase(.restore, detail: "pgbackrest restore --set=\(backup.label)") {
            try await session.restore(s, set: backup.label, target: explicit)
        }
        run.restoreInfo {
            $0.mode = "file"
            $0.toolSeconds = restored.toolSeconds
        }
        let version = run.currentEvidence(PgBackRestEvidence.self)?.toolVersion
        return try await WALReplay<PgBackRestEvidence>.scoped(run, session, target: target) { replay in
            let wal = try await replay.start(detail: "pgbackrest archive-get", tuning: s.wal, list: {
                try await listWAL(backup, archive, segmentSize: restored.walSegmentSize, s, tool)
            }, deliver: { files, options in
                try await session.deliverWAL(s, files, options: options)
            })
            // No transaction was replayed after the backup: the backup's end is the recovery point.
            return try await replay.replay(wal, fallback: backup.stoppedAt,
                                           tool: (version ?? "pgbackrest") + " restore, postgres (archive recovery)")
        }
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

    /// The repository's WAL archive for the backup (`repo-ls`), from the backup's start segment.
    private func listWAL(_ backup: PgBackRestInfo.Backup, _ archive: PgBackRestInfo.Archive?, segmentSize: UInt64,
                         _ s: PgBackRestSettings, _ tool: any PgBackRestTool) async throws -> WALListing {
        guard let archive else {
            throw DrillError(.walGap, "the repository has no WAL archive for the cluster backup \(backup.label) belongs to (database id \(backup.databaseID)): point-in-time recovery is impossible")
        }
        guard let startName = backup.walStart, let start = WALSegment(name: startName, segmentSize: segmentSize) else {
            throw DrillError(.backupCorrupt, "pgbackrest info names no valid start segment for backup \(backup.label) (\(backup.walStart ?? "none"))")
        }
        let entries = try await tool.archiveListing(s, archiveID: archive.id, folder: nil)
        let walArchive = WALArchive(objects: PgBackRestArchiveListing.objects(entries, uriPrefix: "archive/\(s.stanza)/\(archive.id)/"),
                                    segmentSize: segmentSize)
        return WALListing(archive: walArchive, start: start, stop: backup.walStop.flatMap { WALSegment(name: $0, segmentSize: segmentSize) },
                          backupEnd: backup.endsBy, segmentSize: segmentSize, backupName: "Backup \(backup.label)")
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
