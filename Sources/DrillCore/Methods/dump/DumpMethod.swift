import Foundation

/// The logical drill: the newest `pg_dump` backup, fetched while a scratch database is provisioned (or streamed into
/// the restore), restored with `pg_restore` or `psql`. Phases: fetch ∥ provision → restore.
public struct DumpMethod: DrillMethod {
    /// The restorer for a dump format (`pg_restore`, `psql`), nil when this build cannot restore it.
    public var restorer: @Sendable (BackupFormat) -> (any Restorer)?
    /// Creates the scratch database for a target (embedded cluster or server).
    public var provisioner: @Sendable (TargetConfig) -> any ScratchProvisioner
    /// The installed PostgreSQL versions, to choose the one the dump needs; nil: the restorers' defaults.
    public var postgres: (any PostgresCatalog)?
    /// Removes compression and encryption layers on the fly (`encoded` backups); nil when this build cannot.
    public var decoder: (any BackupDecoder)?

    public init(restorer: @escaping @Sendable (BackupFormat) -> (any Restorer)?,
                provisioner: @escaping @Sendable (TargetConfig) -> any ScratchProvisioner,
                postgres: (any PostgresCatalog)? = nil, decoder: (any BackupDecoder)? = nil) {
        self.restorer = restorer
        self.provisioner = provisioner
        self.postgres = postgres
        self.decoder = decoder
    }

    /// The version the dump needs, from its header; for a compressed or encrypted dump, from the header inside its
    /// layers: they are opened as for a restore, only the plaintext's first bytes are read, and the decoders (and the
    /// download) are stopped at once.
    public func versionNeed(_ drill: DrillConfig, _ context: MethodContext) async throws -> VersionNeed? {
        let located = try await find(drill, context)
        if let need = Self.need(located) { return need }
        guard Self.isLayered(located), let decoder else { return nil }
        let decoded = try await decoder.open(rawInput(located, staged: nil, observer: nil, options: .single), name: located.object.name,
                                             decrypt: drill.backup.decrypt, drill: drill.name)
        await decoded.cancel()
        return Self.need(decoded)
    }

    /// Whether what the backup holds is known only once layers are removed: a compressed or encrypted backup
    /// (`encoded`), or a gzip file, which may hold a plain dump, a cluster dump or an archive.
    static func isLayered(_ located: LocatedBackup) -> Bool { located.format == .encoded || located.format == .plainGzip }

    /// The PostgreSQL a located dump needs: `pg_dump`'s version and the data's compression from the archive header
    /// (`toc.dat` for a directory dump), or `pg_dump`'s version from a plain or cluster dump's header comment.
    public static func need(_ located: LocatedBackup) -> VersionNeed? {
        if let h = located.header {
            return VersionNeed.dump(pgDump: h.pgDumpVersion, server: h.serverVersion,
                                    source: located.format == .directory ? "toc.dat header" : "archive header", compression: h.compression)
        }
        if let p = located.plainHeader {
            return VersionNeed.dump(pgDump: p.pgDumpVersion, server: p.serverVersion, source: p.sourceName)
        }
        return nil
    }

    public func locate(_ drill: DrillConfig, _ context: MethodContext) async throws -> RestorePoint {
        try await find(drill, context).restorePoint(archiveTimeZone: context.archiveTimeZone, withRecoveryPoint: true)
    }

    public func restorePoints(_ drill: DrillConfig, _ context: MethodContext) async throws -> [RestorePoint] {
        try await BackupLocator(stores: context.stores, archiveTimeZone: context.archiveTimeZone).candidates(drill).map {
            RestorePoint(uri: $0.uri, name: $0.name, format: "dump", sizeBytes: $0.sizeBytes, modifiedAt: $0.modifiedAt,
                         recoveryPoint: $0.modifiedAt, recoveryPointSource: $0.localPath != nil ? "file_mtime" : "object_last_modified")
        }
    }

    private func find(_ drill: DrillConfig, _ context: MethodContext) async throws -> LocatedBackup {
        let located = try await BackupLocator(stores: context.stores, archiveTimeZone: context.archiveTimeZone, now: context.now())
            .locate(drill)
        if located.format == .basebackup {
            throw DrillError(.configuration,
                             "\(located.object.uri) is a base backup: a basebackup drill needs wal.location, the WAL archive to replay")
        }
        return located
    }

    public func restore(_ drill: DrillConfig, _ run: MethodRun) async throws -> Restored {
        run.begin(.fetch, detail: drill.backup.location)
        let located = try await find(drill, run.context)
        try await run.located(located.restorePoint(archiveTimeZone: run.context.archiveTimeZone, withRecoveryPoint: true),
                              staged: located.object.localPath == nil && !streams(located, jobs: run.jobs))
        for note in located.skipped { run.finding(note) }
        if located.format == .dumpall, drill.target != .embedded {
            run.fail(.fetch)
            throw Self.clusterDumpRefusal(located.object.name)
        }
        if let header = located.header {
            run.backup {
                $0.sourceDatabase = header.databaseName
                $0.sourceServerVersion = header.serverVersion
                $0.pgDumpVersion = header.pgDumpVersion
            }
        } else if let plain = located.plainHeader {
            run.backup {
                $0.sourceServerVersion = plain.serverVersion
                $0.pgDumpVersion = plain.pgDumpVersion
            }
        }
        run.logger.info("latest backup", metadata: ["uri": "\(located.object.uri)", "format": "\(located.format.rawValue)"])
        // An encoded backup is opened first: its key is tried, and the version of the pg_dump inside is read, before
        // anything is provisioned. So is a gzip file (when this build decodes), to learn what it holds.
        var decoded: DecodedBackup?
        let chosen: PostgresInstallation?
        do {
            if Self.isLayered(located), located.format == .encoded || decoder != nil {
                decoded = try await decode(drill, located, rawInput(located, staged: nil, observer: run.observer, options: drill.backup.download,
                                                                    throughStore: true), run)
            }
            if decoded?.found.format == .dumpall, drill.target != .embedded {
                throw Self.clusterDumpRefusal(located.object.name, inside: decoded!.found.codecs)
            }
            chosen = try await run.choosePostgres(Self.need(located) ?? decoded.flatMap(Self.need), catalog: postgres, drill: drill,
                                                  needsServer: drill.target == .embedded)
        } catch {
            await decoded?.cancel()
            run.fail(.fetch)
            throw error
        }
        let staged: StagedBackup?, scratch: any ScratchDatabase
        do {
            (staged, scratch) = try await fetchAndProvision(drill, located, chosen, run)
        } catch {
            await decoded?.cancel()
            throw error
        }
        let header = try await restore(drill, located, staged: staged, scratch: scratch, postgres: chosen, decoded: decoded, run)
        if let staged, staged.isTemporary {
            // Restored: the staged copy of the backup goes now, while the checks run, not after teardown.
            run.discard(staged.path)
        }
        // A cluster dump's checks run in the database the drill names (`database`, default postgres).
        let checked: any ScratchDatabase = (decoded?.found.format ?? located.format) == .dumpall
            ? RetargetedScratch(scratch, database: drill.database ?? "postgres") : scratch
        if located.header == nil, let created = header?.createdAt(in: run.context.archiveTimeZone) {
            // An encoded archive's header is read only while it is decoded.
            return Restored(database: checked, recoveryPoint: created, recoveryPointSource: "archive_header")
        }
        return Restored(database: checked, recoveryPoint: located.recoveryPoint, recoveryPointSource: located.recoveryPointSource)
    }

    /// The backup's stored bytes: the staged (or local) copy, else a stream from the store over `options`'
    /// connections (its progress to `observer`, when given).
    /// `throughStore`: a local file is read by drill through its store too, so the bytes read show as progress (the
    /// decoders' input: what the restore tool reads is their plaintext, whose size is unknown).
    private func rawInput(_ located: LocatedBackup, staged: StagedBackup?, observer: (any PhaseObserver)?,
                          options: DownloadOptions, throughStore: Bool = false) -> RestoreInput {
        if !throughStore, let path = staged?.path ?? located.object.localPath { return .path(path) }
        let store = located.store, object = located.object
        return .stream { sink in
            try await store.stream(object, to: sink, options: options) { done, total in observer?.transfer(done: done, total: total) }
        }
    }

    /// Why a cluster dump (bare, or inside the layers `inside`) is not restored on a server target.
    static func clusterDumpRefusal(_ name: String, inside: [Codec] = []) -> DrillError {
        let what = inside.isEmpty ? "is a pg_dumpall cluster dump" : "holds a pg_dumpall cluster dump (\(inside.map(\.adjective).joined(separator: ", ")))"
        return DrillError(.configuration,
                          "\(name) \(what): it creates roles and databases, which drill does only in its own "
                              + "embedded scratch cluster, never on a server it was given; use target.kind embedded")
    }

    /// Whether download and restore overlap: a remote backup in a format the restore can read from a pipe.
    private func streams(_ located: LocatedBackup, jobs: Int) -> Bool {
        located.object.localPath == nil && located.format.canStream
            && (jobs == 1 || located.format.isSQL || located.format == .encoded)
    }

    /// Stages the backup (unless it is streamed) while the scratch database is provisioned.
    private func fetchAndProvision(_ drill: DrillConfig, _ located: LocatedBackup, _ postgres: PostgresInstallation?, _ run: MethodRun)
        async throws -> (StagedBackup?, any ScratchDatabase) {
        let provisioner = self.provisioner(drill.target)
        let jobs = run.jobs
        async let provisioned: Result<any ScratchDatabase, any Error> = capture {
            run.begin(.provision, detail: drill.target.kind)
            let scratch = try await provisioner.provision(drill: drill, profile: drill.restore.profile, jobs: jobs, postgres: postgres)
            run.adopt(scratch)
            run.end(.provision, ok: true, detail: scratch.database)
            return scratch
        }
        let fetched: Result<StagedBackup?, any Error> = await capture {
            if streams(located, jobs: jobs) {
                run.end(.fetch, ok: true, detail: "streaming \(located.object.name) into the restore")
                return nil
            }
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
            run.end(.fetch, ok: true, detail: "\(located.object.name), \(staged.sizeBytes) bytes", bytes: staged.sizeBytes)
            return staged
        }
        let p = await provisioned
        switch (fetched, p) {
        case (.success(let s), .success(let scratch)):
            return (s, scratch)
        case (.failure(let e), .success):
            run.fail(.fetch)
            throw e
        case (.success, .failure(let e)):
            run.fail(.provision)
            throw e
        case (.failure(let e1), .failure(let e2)):
            run.fail(.fetch)
            run.fail(.provision)
            if !(e1 is CancellationError) { run.finding("Provisioning also failed: \(describe(e2))") }
            throw e1
        }
    }

    /// Restores the backup; returns the archive header read while decoding an `encoded` backup.
    private func restore(_ drill: DrillConfig, _ located: LocatedBackup, staged: StagedBackup?, scratch: any ScratchDatabase,
                         postgres: PostgresInstallation?, decoded: DecodedBackup?, _ run: MethodRun) async throws -> ArchiveHeader? {
        if Task.isCancelled { await decoded?.cancel() }
        try Task.checkCancellation()
        let stream = streams(located, jobs: run.jobs)
        let input = decoded?.input ?? rawInput(located, staged: staged, observer: run.observer, options: drill.backup.download)
        let format = decoded?.found.format ?? located.format
        guard let restorer = restorer(format) else {
            await decoded?.cancel()
            throw DrillError(.unsupported, "this build of drill cannot restore \(format.rawValue) backups")
        }
        let jobs = format.usesPgRestore && format != .tar && !stream && decoded == nil ? run.jobs : 1
        run.restoreInfo {
            $0.jobs = jobs
            $0.mode = stream || decoded != nil ? "stream" : "file"
        }
        let detail = "\(decoded?.found.description ?? format.rawValue), \(jobs) job\(jobs == 1 ? "" : "s"), \(drill.restore.profile.rawValue)"
        run.begin(.restore, detail: detail)
        let outcome: RestoreOutcome
        do {
            // A local file's progress is what the tool has read of it; a stream reports its own as it is read.
            let observer = run.observer
            let progress: TransferProgress? = if case .path = input { { done, total in observer.transfer(done: done, total: total) } } else { nil }
            outcome = try await restorer.restore(RestoreRequest(input: input, format: format, jobs: jobs,
                                                                profile: drill.restore.profile, connection: scratch.connection,
                                                                postgres: postgres, admin: scratch.adminConnection, progress: progress))
        } catch {
            await decoded?.cancel()  // a restore that failed before reading leaves no decoder behind
            run.fail(.restore)
            throw error
        }
        run.restoreInfo {
            $0.tool = outcome.tool
            $0.toolVersion = outcome.toolVersion
            $0.toolSeconds = outcome.toolSeconds
            $0.stderr = outcome.stderr.isEmpty ? nil : outcome.stderr
            $0.databases = outcome.databases
        }
        for f in outcome.findings { run.finding(f) }
        if let receipt = outcome.receipt {
            run.backup {
                $0.sha256 = receipt.sha256
                $0.sizeBytes = receipt.bytes
            }
            do {
                try await SidecarCheck.verify(drill.backup, located, digest: receipt.sha256, run)
            } catch {
                run.fail(.restore)
                throw error
            }
        }
        run.end(.restore, ok: true, detail: outcome.tool)
        return decoded?.header
    }
}

extension PlainDumpHeader {
    /// Where a version need read from this header says it came from.
    var sourceName: String { isCluster ? "cluster dump's header comment" : "plain dump's header comment" }
}
