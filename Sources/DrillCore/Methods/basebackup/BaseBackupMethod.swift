import Foundation

/// The physical drill: a `pg_basebackup` backup and its WAL archive, restored into a scratch cluster provisioned from
/// the backup itself. Phases: fetch → provision → extract → verify → wal_fetch → wal_replay.
public struct BaseBackupMethod: DrillMethod {
    /// Extracts, verifies and recovers base backups; nil when this build cannot.
    public var restorer: (any PhysicalRestorer)?
    /// The installed PostgreSQL versions, to choose the backup's major; nil: the restorer's default.
    public var postgres: (any PostgresCatalog)?

    public init(restorer: (any PhysicalRestorer)?, postgres: (any PostgresCatalog)? = nil) {
        self.restorer = restorer
        self.postgres = postgres
    }

    public func locate(_ drill: DrillConfig, _ context: MethodContext) async throws -> RestorePoint {
        try await find(drill, context).restorePoint(archiveTimeZone: context.archiveTimeZone, withRecoveryPoint: false)
    }

    /// A restore now would reach the newest archived WAL segment. An incremental backup's chain is resolved as a
    /// restore would resolve it: a broken one is the plan's problem.
    public func plan(_ drill: DrillConfig, _ context: MethodContext) async throws -> PlanPoint {
        let located = try await find(drill, context)
        let point = located.restorePoint(archiveTimeZone: context.archiveTimeZone, withRecoveryPoint: false)
        let chain = try await localChain(drill, located)?.members.map(\.name)
        let locator = BackupLocator(stores: context.stores, archiveTimeZone: context.archiveTimeZone)
        if let newest = try await locator.newestArchivedWAL(drill) {
            return PlanPoint(point: point, newestRecoverable: newest.modifiedAt,
                             newestRecoverableSource: "wal_archive, newest segment \(newest.name)", incrementalChain: chain)
        }
        return PlanPoint(point: point, newestRecoverable: located.recoveryPoint, newestRecoverableSource: located.recoveryPointSource,
                         incrementalChain: chain)
    }

    public func restorePoints(_ drill: DrillConfig, _ context: MethodContext) async throws -> [RestorePoint] {
        try await BackupLocator(stores: context.stores, archiveTimeZone: context.archiveTimeZone).candidates(drill)
            .filter(\.isDirectory).map {
                RestorePoint(uri: $0.uri, name: $0.name, format: "basebackup", sizeBytes: $0.sizeBytes, modifiedAt: $0.modifiedAt)
            }
    }

    private func find(_ drill: DrillConfig, _ context: MethodContext) async throws -> LocatedBackup {
        let located = try await BackupLocator(stores: context.stores, archiveTimeZone: context.archiveTimeZone, now: context.now())
            .locate(drill)
        guard located.format == .basebackup else {
            throw DrillError(.backupUnreadable,
                             "the newest backup under \(drill.backup.location), \(located.object.name), is a \(located.format.rawValue) dump, not a base backup")
        }
        return located
    }

    public func restore(_ drill: DrillConfig, _ run: MethodRun) async throws -> Restored {
        run.begin(.fetch, detail: drill.backup.location)
        let located = try await find(drill, run.context)
        // A physical restore's recovery point is measured after WAL replay.
        try await run.located(located.restorePoint(archiveTimeZone: run.context.archiveTimeZone, withRecoveryPoint: false),
                              staged: located.object.localPath == nil)
        for note in located.skipped { run.finding(note) }
        run.logger.info("latest backup", metadata: ["uri": "\(located.object.uri)", "format": "basebackup"])
        let input: BackupInput
        let chosen: PostgresInstallation?
        let localChain: IncrementalChain?
        do { localChain = try await self.localChain(drill, located) } catch {
            run.fail(.fetch)
            throw error
        }
        if let chain = localChain {
            // An incremental chain (local folders, plain or tar format): its backups are read in place, copied into
            // the scratch cluster after provisioning and combined there.
            let fetched = try await stage(drill, located, run)
            chosen = try await choosePostgres(drill, fetched, run)
            input = .chain(chain)
        } else if let folder = try await streamableFolder(drill, located, run),
                  let need = await streamedVersionNeed(drill, located) {
            run.restoreInfo { $0.mode = "stream" }
            run.end(.fetch, ok: true, detail: "\(located.object.name), \(folder.files.count) files, streamed into tar during extract")
            input = .stream(folder)
            chosen = try await choosePostgres(drill, need: need.need, run)
        } else {
            let fetched = try await stage(drill, located, run)
            // Staged from S3 or HTTP(S): an incremental backup there is refused before provisioning (chains are
            // combined from a local backup.location only; a streamed one is refused when its backup_label is read).
            _ = try await restorer?.incrementalChain(fetched, drill: drill)
            chosen = try await choosePostgres(drill, fetched, run)
            input = .staged(fetched)
        }
        let session = try await provision(drill, chosen, run)
        return try await recover(drill, located, input: input, session: session, run)
    }

    /// A streamed backup leaves no staged copy to read `PG_VERSION` from before provisioning. A local folder's
    /// `base.tar` is read in place (tar seeks over the members); on S3 the backup is streamed only when the choice
    /// does not depend on its version (one PostgreSQL major installed), else it is staged. nil: stage it.
    private func streamedVersionNeed(_ drill: DrillConfig, _ located: LocatedBackup) async -> StreamedVersion? {
        guard let restorer, let postgres else { return StreamedVersion(need: nil) }
        if let local = located.object.localPath {
            let view = StagedBackup(path: local, isDirectory: true, sizeBytes: 0, sha256: "", isTemporary: false)
            return StreamedVersion(need: await restorer.backupVersion(view).map { VersionNeed(version: $0, rule: .sameMajor, source: "PG_VERSION") })
        }
        let majors = Set(await postgres.inventory(for: drill).installations.filter(\.hasServer).map(\.version.major))
        return majors.count <= 1 ? StreamedVersion(need: nil) : nil
    }

    /// What a streamed backup needs of the PostgreSQL that restores it (nil: not known, any installed one will do).
    struct StreamedVersion {
        var need: VersionNeed?
    }

    /// A tar-format backup folder, on local disk or S3, is streamed into `tar -x` as it is read: no staged copy, the
    /// digest computed on the way. Anything else (plain format, HTTP, sub-folders) is staged first.
    enum BackupInput: Sendable {
        case staged(StagedBackup)
        case stream(BackupFolder)
        /// An incremental chain of local backup folders, combined in the scratch cluster.
        case chain(IncrementalChain)
    }

    struct BackupFolder: Sendable {
        var store: any BackupStore
        var files: [BackupObject]
    }

    private func streamableFolder(_ drill: DrillConfig, _ located: LocatedBackup, _ run: MethodRun) async throws -> BackupFolder? {
        guard located.object.isDirectory else { return nil }
        let location: String
        if let local = located.object.localPath {
            location = local
        } else if drill.backup.location.hasPrefix("s3://") {
            let root = drill.backup.location.hasSuffix("/") ? drill.backup.location : drill.backup.location + "/"
            location = root + located.object.name + "/"
        } else {
            return nil
        }
        do {
            let store = try run.context.stores.store(location: location, endpoint: drill.backup.endpoint, region: drill.backup.region)
            let files = try await store.list(matching: nil)
            guard !files.contains(where: \.isDirectory), files.contains(where: { $0.name.hasPrefix("base.tar") }) else { return nil }
            return BackupFolder(store: store, files: files)
        } catch {
            run.fail(.fetch)
            throw error
        }
    }

    /// Makes the backup folder available locally (the fetch phase, opened by `restore`).
    private func stage(_ drill: DrillConfig, _ located: LocatedBackup, _ run: MethodRun) async throws -> StagedBackup {
        do {
            let observer = run.observer
            let staged = try await located.store.stage(located.object, into: try run.stagingDirectory()) { done, total in
                observer.transfer(done: done, total: total)
            }
            if staged.isTemporary { run.removeAtEnd(staged.path) }
            run.backup {
                $0.sha256 = staged.sha256
                $0.sizeBytes = staged.sizeBytes
            }
            try await SidecarCheck.verify(drill.backup, located, digest: staged.sha256, run)
            run.restoreInfo { $0.mode = "file" }
            run.end(.fetch, ok: true, detail: "\(located.object.name), \(staged.sizeBytes) bytes")
            return staged
        } catch {
            run.fail(.fetch)
            throw error
        }
    }

    /// The PostgreSQL of the backup's major (`PG_VERSION`), chosen before anything is provisioned.
    private func choosePostgres(_ drill: DrillConfig, _ staged: StagedBackup, _ run: MethodRun) async throws -> PostgresInstallation? {
        guard let restorer, postgres != nil else { return nil }
        let need = await restorer.backupVersion(staged).map { VersionNeed(version: $0, rule: .sameMajor, source: "PG_VERSION") }
        return try await choosePostgres(drill, need: need, run)
    }

    private func choosePostgres(_ drill: DrillConfig, need: VersionNeed?, _ run: MethodRun) async throws -> PostgresInstallation? {
        guard postgres != nil else { return nil }
        return try await run.choosePostgres(need, catalog: postgres, drill: drill, needsServer: true)
    }

    /// Creates the private scratch cluster folders (nothing runs yet).
    private func provision(_ drill: DrillConfig, _ postgres: PostgresInstallation?, _ run: MethodRun) async throws -> any PhysicalSession {
        guard let restorer else {
            throw DrillError(.unsupported, "this build of drill cannot restore basebackup backups")
        }
        guard drill.target == .embedded else {
            throw DrillError(.configuration, "a basebackup is restored into a private scratch cluster: target.kind must be embedded")
        }
        guard drill.wal != nil else {
            throw DrillError(.configuration, "a basebackup drill needs wal.location: the WAL archive to replay")
        }
        return try await run.phase(.provision, detail: "scratch cluster from the backup") {
            run.adopt(try await restorer.prepare(drill: drill, profile: drill.restore.profile, postgres: postgres))
        }
    }

    /// Extracts, verifies, fetches the WAL and replays it. The `wal` evidence is filled in as the steps go, so a
    /// failed drill reports how far it got.
    ///
    /// What overlaps (with a session that delivers WAL during replay): when `backup_label` can be read from the head
    /// of the base archive, the WAL archive is listed, gap-checked and fetched while the backup is extracted and
    /// verified; replay starts as soon as verification is done and is fed while the rest of the WAL arrives.
    private func recover(_ drill: DrillConfig, _ located: LocatedBackup, input: BackupInput,
                         session: any PhysicalSession, _ run: MethodRun) async throws -> Restored {
        let walConfig = drill.wal!
        let target = RecoveryTarget(drill.recovery?.target ?? "latest") ?? .latest
        var evidence = DrillReport.WAL(location: URLRedaction.redactURLs(in: walConfig.location), target: target.description)
        if case .chain(let chain) = input { evidence.incrementalChain = chain.members.map(\.name) }
        run.evidence(evidence)
        run.restoreInfo { $0.jobs = 1 }
        let walStore = try run.context.stores.store(location: walConfig.location, endpoint: walConfig.endpoint, region: walConfig.region)
        return try await WALReplay<DrillReport.WAL>.scoped(run, session, target: target) { wal in
            try await recover(drill, located, input: input, session: session, walConfig: walConfig, walStore: walStore, wal)
        }
    }

    private func recover(_ drill: DrillConfig, _ located: LocatedBackup, input: BackupInput, session: any PhysicalSession,
                         walConfig: WALConfig, walStore: any BackupStore, _ replay: WALReplay<DrillReport.WAL>) async throws -> Restored {
        let run = replay.run
        run.begin(.extract, detail: located.object.name)
        let observer = run.observer
        let extraction = replay.background { () async throws -> ExtractedBackup in
            switch input {
            case .staged(let staged):
                return try await session.extract(staged)
            case .chain(let chain):
                return try await extractChain(chain, session, run)
            case .stream(let folder):
                guard let streamed = try await session.extractStreaming(folder.files, from: folder.store, progress: { done, total in
                    observer.transfer(done: done, total: total)
                }) else {
                    throw DrillError(.backupUnreadable, "\(located.object.uri) cannot be streamed into the scratch cluster")
                }
                run.backup {
                    $0.sha256 = streamed.sha256
                    $0.sizeBytes = streamed.sizeBytes
                }
                try await SidecarCheck.verify(drill.backup, located, digest: streamed.sha256, run)
                return streamed.extracted
            }
        }

        // WAL side, early: listed, gap-checked and fetched while the backup is extracted.
        var delivery: WALDelivery?
        if session.deliversDuringReplay, case .stream(let folder) = input,
           let label = await session.peekLabel(folder.files, from: folder.store), let size = label.impliedSegmentSize {
            let includesWAL = folder.files.contains { $0.name.hasPrefix("pg_wal.tar") }
            delivery = try await startWAL(walConfig, label: label, segmentSize: size, includesWAL: includesWAL,
                                          located, walStore, session, replay)
        }

        let extracted: ExtractedBackup
        do {
            extracted = try await extraction.value
            run.end(.extract, ok: true, detail: located.object.name, bytes: extracted.bytes)
        } catch {
            run.fail(.extract)
            throw error
        }
        if let delivery, delivery.segmentSize != extracted.walSegmentSize {
            throw DrillError(.backupCorrupt, "backup_label implies \(delivery.segmentSize)-byte WAL segments, pg_control says \(extracted.walSegmentSize)")
        }
        run.evidence(DrillReport.WAL.self) { $0.startSegment = extracted.label.startSegmentName }

        if extracted.hasManifest {
            let tool = try await run.phase(.verify, detail: "pg_verifybackup") { try await session.verify() }
            run.evidence(DrillReport.WAL.self) { $0.verifiedWith = tool }
        } else {
            run.finding("The base backup has no backup_manifest, so pg_verifybackup could not check it (take backups without --no-manifest).")
        }

        let wal: WALDelivery
        if let delivery {
            wal = delivery
        } else {
            wal = try await startWAL(walConfig, label: extracted.label, segmentSize: extracted.walSegmentSize,
                                     includesWAL: extracted.includesWAL, located, walStore, session, replay)
        }
        // No transaction replayed after the backup: the backup's end is the recovery point.
        return try await replay.replay(wal, fallback: wal.backupEnd, tool: "postgres (archive recovery)")
    }
}

extension DrillReport.WAL: MethodEvidence {
    public static var reportKey: WritableKeyPath<DrillReport, DrillReport.WAL?> { \.wal }
}
