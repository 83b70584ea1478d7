import Foundation
import Logging

/// Runs one drill from backup to report: locate → fetch and provision (overlapped) → restore → checks → teardown.
///
/// A drill never throws: every outcome, including interruption, ends in a `DrillReport`. Errors that stop the drill
/// become a `failed` (or `aborted`) status with a finding; missed targets and failed checks are findings of a
/// `non_compliant` run.
public struct DrillRunner<C: Clock>: Sendable where C.Duration == Duration {
    public var deps: DrillDependencies
    public var clock: C
    public var observer: any PhaseObserver

    public init(deps: DrillDependencies, clock: C, observer: any PhaseObserver = SilentObserver()) {
        self.deps = deps
        self.clock = clock
        self.observer = observer
    }

    public func run(_ drill: DrillConfig, tier: TierConfig, keep: Bool = false) async -> DrillReport {
        let state = DrillState(drill: drill, tier: tier, startedAt: deps.now(), start: clock.now, clock: clock,
                               jobs: drill.restore.jobs ?? max(1, deps.cores), hostName: deps.hostName,
                               drillVersion: deps.drillVersion)
        observer.drillStarted(drill.name, tier: tier.name)
        var scratch: (any ScratchDatabase)?
        var staged: StagedBackup?
        var stagingDir: String?
        var stagedRemoval: Task<Void, Never>?
        do {
            let located = try await locate(drill, state)
            stagingDir = try makeStagingDir(drill)
            if located.format == .basebackup {
                // Physical: the restore provisions its own cluster from the backup (DrillRunner+Physical.swift).
                let s = try await stagePhysical(drill, located, stagingDir: stagingDir!, state)
                staged = s
                let session = try await provisionPhysical(drill, state)
                scratch = session
                try await restorePhysical(drill, located, staged: s, session: session, state)
                try await runChecks(drill, tier: tier, scratch: session, state)
            } else {
                let (s, sc) = try await fetchAndProvision(drill, located, stagingDir: stagingDir!, state)
                staged = s
                scratch = sc
                try await restore(drill, located, staged: s, scratch: sc, state)
                if let s, s.isTemporary {
                    // Restored: the staged copy of the backup goes now, while the checks run, not after teardown.
                    staged = nil
                    stagedRemoval = Task.detached { try? FileManager.default.removeItem(atPath: s.path) }
                }
                try await runChecks(drill, tier: tier, scratch: sc, state)
            }
        } catch {
            record(error, state)
        }
        if let scratch {
            await finishScratch(scratch, keep: keep, state)
        }
        await stagedRemoval?.value
        if let staged, staged.isTemporary { try? FileManager.default.removeItem(atPath: staged.path) }
        if let stagingDir { try? FileManager.default.removeItem(atPath: stagingDir) }
        return state.finish(now: deps.now())
    }

    // MARK: - Phases

    /// Finds the latest backup and recognises its format (the start of the fetch phase).
    private func locate(_ drill: DrillConfig, _ state: DrillState<C>) async throws -> LocatedBackup {
        observer.phaseStarted(.fetch, detail: drill.backup.location)
        state.beginPhase(.fetch)
        let located = try await BackupLocator(stores: deps.stores, archiveTimeZone: deps.archiveTimeZone).locate(drill)
        let object = located.object
        state.report.backup.uri = object.uri
        state.report.backup.name = object.name
        state.report.backup.sizeBytes = object.sizeBytes
        state.report.backup.modifiedAt = object.modifiedAt
        state.report.backup.format = located.format.rawValue
        if located.format != .basebackup {
            // A physical restore's recovery point is measured after WAL replay.
            state.report.measured.recoveryPoint = located.recoveryPoint
            state.report.measured.recoveryPointSource = located.recoveryPointSource
        }
        if let header = located.header {
            state.report.backup.createdAt = header.createdAt(in: deps.archiveTimeZone)
            state.report.backup.sourceDatabase = header.databaseName
            state.report.backup.sourceServerVersion = header.serverVersion
            state.report.backup.pgDumpVersion = header.pgDumpVersion
        }
        deps.logger.info("latest backup", metadata: ["uri": "\(object.uri)", "format": "\(located.format.rawValue)"])
        return located
    }

    /// Whether download and restore overlap: a remote backup in a format the restore can read from a pipe.
    private func streams(_ located: LocatedBackup, jobs: Int) -> Bool {
        located.object.localPath == nil && located.format.canStream
            && (jobs == 1 || located.format == .plain || located.format == .plainGzip)
    }

    private func makeStagingDir(_ drill: DrillConfig) throws -> String {
        let dir = (deps.stagingRoot as NSString).appendingPathComponent("drill-stage-\(drill.name)-\(UUID().uuidString.prefix(8))")
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw DrillError(.provisionFailed, "cannot create a staging folder under \(deps.stagingRoot): \(error.localizedDescription)")
        }
        return dir
    }

    /// Stages the backup (unless it is streamed) while the scratch database is provisioned.
    private func fetchAndProvision(_ drill: DrillConfig, _ located: LocatedBackup, stagingDir: String, _ state: DrillState<C>)
        async throws -> (StagedBackup?, any ScratchDatabase) {
        let provisioner = deps.provisioner(drill.target)
        let observer = self.observer
        let jobs = state.jobs
        async let provisioned: Result<any ScratchDatabase, any Error> = capture {
            observer.phaseStarted(.provision, detail: drill.target.kind)
            state.beginPhase(.provision)
            let scratch = try await provisioner.provision(drill: drill, profile: drill.restore.profile, jobs: jobs)
            state.endPhase(.provision, ok: true, observer: observer, detail: scratch.database)
            return scratch
        }
        let fetched: Result<StagedBackup?, any Error> = await capture {
            if streams(located, jobs: jobs) {
                state.endPhase(.fetch, ok: true, observer: observer, detail: "streaming \(located.object.name) into the restore")
                return nil
            }
            let progress: TransferProgress = { done, total in observer.transfer(done: done, total: total) }
            let staged = try await located.store.stage(located.object, into: stagingDir, progress: progress)
            state.report.backup.sha256 = staged.sha256
            state.report.backup.sizeBytes = staged.sizeBytes
            try await verifySidecar(drill, located, digest: staged.sha256, state)
            state.endPhase(.fetch, ok: true, observer: observer, detail: "\(located.object.name), \(staged.sizeBytes) bytes")
            return staged
        }
        let p = await provisioned
        switch (fetched, p) {
        case (.success(let s), .success(let scratch)):
            return (s, scratch)
        case (.failure(let e), .success(let scratch)):
            state.failPhase(.fetch, observer: observer)
            await finishScratch(scratch, keep: false, state)
            throw e
        case (.success(let s), .failure(let e)):
            state.failPhase(.provision, observer: observer)
            if let s, s.isTemporary { try? FileManager.default.removeItem(atPath: s.path) }
            throw e
        case (.failure(let e1), .failure(let e2)):
            state.failPhase(.fetch, observer: observer)
            state.failPhase(.provision, observer: observer)
            if !(e1 is CancellationError) { state.report.findings.append("Provisioning also failed: \(describe(e2))") }
            throw e1
        }
    }

    func verifySidecar(_ drill: DrillConfig, _ located: LocatedBackup, digest: String, _ state: DrillState<C>) async throws {
        guard drill.backup.verify != .off else {
            state.report.backup.sidecar = "off"
            return
        }
        let expected = try await located.store.sidecarDigest(for: located.object)
        guard let expected else {
            state.report.backup.sidecar = "absent"
            if drill.backup.verify == .required {
                throw DrillError(.digestMismatch, "backup.verify is required, but \(located.object.name).sha256 does not exist")
            }
            return
        }
        if expected == digest {
            state.report.backup.sidecar = "match"
        } else {
            state.report.backup.sidecar = "mismatch"
            throw DrillError(.digestMismatch,
                             "SHA-256 of \(located.object.name) is \(digest), but its .sha256 sidecar says \(expected): the backup is corrupt or was replaced")
        }
    }

    private func restore(_ drill: DrillConfig, _ located: LocatedBackup, staged: StagedBackup?, scratch: any ScratchDatabase,
                         _ state: DrillState<C>) async throws {
        try Task.checkCancellation()
        guard let restorer = deps.restorer(located.format) else {
            throw DrillError(.unsupported, "this build of drill cannot restore \(located.format.rawValue) backups")
        }
        let stream = streams(located, jobs: state.jobs)
        let jobs = located.format.usesPgRestore && located.format != .tar && !stream ? state.jobs : 1
        state.report.restore.jobs = jobs
        state.report.restore.mode = stream ? "stream" : "file"
        observer.phaseStarted(.restore, detail: "\(located.format.rawValue), \(jobs) job\(jobs == 1 ? "" : "s"), \(drill.restore.profile.rawValue)")
        state.beginPhase(.restore)
        let input: RestoreInput
        if let staged {
            input = .path(staged.path)
        } else {
            let store = located.store, object = located.object, observer = self.observer
            input = .stream { sink in
                try await store.stream(object, to: sink) { done, total in observer.transfer(done: done, total: total) }
            }
        }
        let outcome: RestoreOutcome
        do {
            outcome = try await restorer.restore(RestoreRequest(input: input, format: located.format, jobs: jobs,
                                                                profile: drill.restore.profile, connection: scratch.connection))
        } catch {
            state.failPhase(.restore, observer: observer)
            throw error
        }
        state.report.restore.tool = outcome.tool
        state.report.restore.toolVersion = outcome.toolVersion
        state.report.restore.toolSeconds = outcome.toolSeconds
        state.report.restore.stderr = outcome.stderr.isEmpty ? nil : outcome.stderr
        state.report.findings += outcome.findings
        if let receipt = outcome.receipt {
            state.report.backup.sha256 = receipt.sha256
            state.report.backup.sizeBytes = receipt.bytes
            do {
                try await verifySidecar(drill, located, digest: receipt.sha256, state)
            } catch {
                state.failPhase(.restore, observer: observer)
                throw error
            }
        }
        state.endPhase(.restore, ok: true, observer: observer, detail: outcome.tool)
        state.restored = true
    }

    func runChecks(_ drill: DrillConfig, tier: TierConfig, scratch: any ScratchDatabase, _ state: DrillState<C>) async throws {
        try Task.checkCancellation()
        observer.phaseStarted(.checks, detail: "\(drill.checks.count) check\(drill.checks.count == 1 ? "" : "s")")
        state.beginPhase(.checks)
        let evaluator = CheckEvaluator(drillStart: state.startedAt, rpo: tier.rpo)
        let connection: any QueryExecutor
        do {
            connection = try await deps.connector.connect(scratch.connection)
        } catch {
            state.failPhase(.checks, observer: observer)
            throw error
        }
        for check in drill.checks {
            if Task.isCancelled { break }
            let t0 = clock.now
            var entry = DrillReport.Check(name: check.name, sql: check.sql, expected: check.expect.describe(rpo: tier.rpo),
                                          observed: nil, rows: nil, passed: false, seconds: 0, error: nil)
            do {
                let result = try await connection.query(check.sql, timeout: check.timeout)
                let verdict = evaluator.evaluate(check.expect, result: result)
                entry.observed = verdict.observed
                entry.rows = result.rows.count
                entry.passed = verdict.passed
                entry.error = verdict.reason
            } catch {
                entry.error = describe(error)
            }
            entry.seconds = seconds(t0.duration(to: clock.now))
            if !entry.passed { state.report.findings.append("Check \"\(check.name)\" failed: \(entry.error ?? "unexpected result")") }
            observer.note("check \(entry.passed ? "passed" : "FAILED"): \(check.name) → \(entry.observed ?? "error")")
            state.report.checks.append(entry)
        }
        await connection.close()
        try Task.checkCancellation()
        state.endPhase(.checks, ok: state.report.checks.allSatisfy(\.passed), observer: observer,
                       detail: "\(state.report.checks.filter(\.passed).count)/\(drill.checks.count) passed")
        state.usableAt = clock.now
        state.report.environment.serverVersion = scratch.serverVersion
    }

    func finishScratch(_ scratch: any ScratchDatabase, keep: Bool, _ state: DrillState<C>) async {
        state.report.scratch.kind = scratch.kind
        state.report.scratch.database = scratch.database
        state.report.environment.serverVersion = scratch.serverVersion
        state.report.restore.settings = scratch.settings.isEmpty ? nil : scratch.settings
        if keep {
            state.report.scratch.kept = true
            state.report.scratch.removed = false
            state.report.scratch.detail = "kept at the user's request (--keep)"
            observer.note("scratch database kept: \(scratch.keepInstructions)")
            return
        }
        observer.phaseStarted(.teardown, detail: scratch.database)
        let t0 = clock.now
        let result = await scratch.teardown()
        let secs = seconds(t0.duration(to: clock.now))
        state.report.scratch.removed = result.removed
        state.report.scratch.detail = result.detail
        state.report.scratch.teardownSeconds = secs
        if !result.removed {
            state.report.findings.append("The scratch database could not be removed: \(result.detail ?? "unknown reason")")
        }
        observer.phaseFinished(.teardown, seconds: secs, ok: result.removed, detail: result.detail ?? "removed")
    }

    private func record(_ error: any Error, _ state: DrillState<C>) {
        if error is CancellationError || Task.isCancelled {
            state.aborted = true
            state.report.findings.append("The drill was interrupted before it finished; the scratch database was torn down.")
            return
        }
        state.failure = describe(error)
        state.failureCode = (error as? DrillError)?.code.rawValue
        state.report.findings.append(describe(error))
        deps.logger.notice("drill failed", metadata: ["drill": "\(state.report.drill)", "error": "\(describe(error))"])
    }
}

func describe(_ error: any Error) -> String {
    if let e = error as? DrillError { return e.message }
    return String(describing: error)
}

func seconds(_ d: Duration) -> Double {
    let c = d.components
    return Double(c.seconds) + Double(c.attoseconds) / 1e18
}

func capture<T: Sendable>(_ body: @Sendable () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}

/// Reads the first bytes of a local file.
enum LocalHead {
    static func read(_ path: String, count: Int) -> [UInt8]? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        guard let data = try? h.read(upToCount: count) else { return nil }
        return [UInt8](data)
    }
}
