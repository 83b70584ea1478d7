import Foundation
import Logging

/// Runs one drill from backup to report, whatever its kind: the drill's method finds its restore point and restores it
/// (its phases timed here), then the checks run in the restored database, then every scratch database the method
/// adopted is torn down.
///
/// A drill never throws: every outcome, including interruption, ends in a `DrillReport`. Errors that stop the drill
/// become a `failed` (or `aborted`) status with a finding; missed targets and failed checks are findings of a
/// `non_compliant` run.
public struct DrillRunner<C: Clock>: Sendable where C.Duration == Duration {
    public var deps: DrillDependencies
    public var clock: C
    public var observer: any PhaseObserver
    /// What the drill's time limit (`restore.timeout`) is waited on: real time, whatever `clock` measures with (a
    /// test's manual clock only moves when told).
    public var timer: any Clock<Duration>

    public init(deps: DrillDependencies, clock: C, observer: any PhaseObserver = SilentObserver(),
                timer: any Clock<Duration> = ContinuousClock()) {
        self.deps = deps
        self.clock = clock
        self.observer = observer
        self.timer = timer
    }

    public func run(_ drill: DrillConfig, tier: TierConfig, keep: Bool = false) async -> DrillReport {
        let state = DrillState(drill: drill, tier: tier, startedAt: deps.now(), start: clock.now, clock: clock,
                               jobs: drill.restore.jobs ?? max(1, deps.cores), hostName: deps.hostName,
                               drillVersion: deps.drillVersion)
        observer.drillStarted(drill.name, tier: tier.name)
        // What a killed drill left is removed before this one provisions; the findings say what, for this drill.
        if let janitor = deps.janitor {
            for finding in await janitor.beforeDrill(drill.name) {
                state.report.findings.append(finding)
                observer.note(finding)
            }
        }
        let run = MethodRun(drillStart: state.startedAt, jobs: state.jobs, tier: tier, context: deps.methodContext,
                            observer: observer, randomUnit: deps.randomUnit, recorder: state, scope: ScratchScope(),
                            stagingRoot: deps.stagingRoot, drillName: drill.name, gate: deps.resources,
                            janitor: deps.janitor)
        let limit = drill.restore.timeLimit(for: tier)
        do {
            guard let method = deps.methods.method(for: drill.method) else {
                throw DrillError(.unsupported, "this build of drill cannot run \(drill.method) drills")
            }
            try await within(limit) {
                let restored = try await method.restore(drill, run)
                state.restored = true
                if let rp = restored.recoveryPoint {
                    state.report.measured.recoveryPoint = rp
                    state.report.measured.recoveryPointSource = restored.recoveryPointSource
                } else if restored.rpo != nil {
                    state.report.measured.recoveryPointSource = restored.recoveryPointSource
                }
                state.rpoReference = restored.rpoReference
                state.sourceReadAt = restored.sourceReadAt
                state.methodRPO = restored.rpo
                state.methodRTO = restored.rto
                state.violations = restored.violations
                state.checked = restored.database
                // A method returns a scratch database it adopted, or servers it borrowed (never torn down).
                let targets = restored.database.map { [(label: String?.none, connection: $0.connection)] }
                    ?? restored.checkTargets.map { (label: String?.some($0.label), connection: $0.connection) }
                try await runChecks(drill, tier: tier, targets: targets, state)
                if let version = restored.database?.serverVersion ?? restored.checkTargets.first?.serverVersion {
                    state.report.environment.serverVersion = version
                }
                await checkCoverage(method, drill, tier: tier, state)
            }
        } catch is TimeLimitExceeded {
            // The work was cancelled (its tools stopped) before `within` returned; teardown follows as on every path.
            state.stopped = (limit, clock.now)
            observer.note("stopped after \(limit) (restore.timeout); tearing the scratch database down")
        } catch {
            record(error, state)
        }
        await tearDown(run.scope, keeping: keep ? state.checked : nil, state)
        await run.cleanUp()
        return state.finish(now: deps.now())
    }

    /// Runs `body`, cancelling it when `limit` passes first (then it throws `TimeLimitExceeded`, once `body` has
    /// stopped). Cancellation of the drill itself still comes through as `CancellationError`.
    func within(_ limit: DrillDuration, _ body: @escaping @Sendable () async throws -> Void) async throws {
        let timer = self.timer
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await body()
                return true
            }
            group.addTask {
                try await timer.sleep(for: .seconds(limit.seconds))
                return false
            }
            defer { group.cancelAll() }
            guard let finished = try await group.next() else { return }
            group.cancelAll()
            if !finished {
                // Wait for the work to wind down (its cancellation kills the restore tools) and drop its error.
                while (try? await group.next()) != nil {}
                if Task.isCancelled { throw CancellationError() }
                throw TimeLimitExceeded()
            }
        }
    }

    // MARK: - Phases

    /// Runs every check on every target: the restored scratch database (entries named by the check), or each server a
    /// method borrowed (entries named `<label>: <check>`).
    func runChecks(_ drill: DrillConfig, tier: TierConfig, targets: [(label: String?, connection: ConnectionParameters)],
                   _ state: DrillState<C>) async throws {
        try Task.checkCancellation()
        let total = drill.checks.count * targets.count
        observer.phaseStarted(.checks, detail: "\(total) check\(total == 1 ? "" : "s")")
        state.beginPhase(.checks)
        let evaluator = CheckEvaluator(drillStart: state.startedAt, rpo: tier.rpo)
        let planner = ExpectationPlanner(drillStart: state.startedAt, rpo: tier.rpo)
        for target in targets {
            let connection: any QueryExecutor
            do {
                connection = try await deps.connector.connect(target.connection)
            } catch {
                state.failPhase(.checks, observer: observer)
                throw error
            }
            // Expectations run table by table (one scan each where their kinds allow), before the SQL checks.
            let c0 = clock.now, clock = self.clock
            let expectations = await planner.run(drill.checks, on: connection, elapsed: { seconds(c0.duration(to: clock.now)) })
            for (index, check) in drill.checks.enumerated() {
                if Task.isCancelled { break }
                let t0 = clock.now
                let name = target.label.map { "\($0): \(check.name)" } ?? check.name
                var entry = DrillReport.Check(name: name, sql: check.sql, expected: check.expect.describe(rpo: tier.rpo),
                                              observed: nil, rows: nil, passed: false, seconds: 0, error: nil)
                if var e = expectations[index] {
                    e.name = name
                    entry = e
                } else { do {
                    // The first row, and rows counted only as far as `rows` needs: never the whole result.
                    let result = try await connection.query(check.sql, timeout: check.timeout,
                                                            countRowsUpTo: CheckOutput.rowsToCount(check.expect))
                    evaluator.evaluate(check.expect, result: result).record(into: &entry)
                } catch {
                    entry.error = CheckOutput.boundedError(describe(error))  // an error may quote the value
                }
                entry.seconds = seconds(t0.duration(to: clock.now)) }
                if !entry.passed { state.report.findings.append("Check \"\(name)\" failed: \(entry.error ?? "unexpected result")") }
                observer.note("check \(entry.passed ? "passed" : "FAILED"): \(name) → \(CheckOutput.oneLine(entry.observed ?? "error"))")
                state.report.checks.append(entry)
            }
            await connection.close()
        }
        try Task.checkCancellation()
        state.endPhase(.checks, ok: state.report.checks.allSatisfy(\.passed), observer: observer,
                       detail: "\(state.report.checks.filter(\.passed).count)/\(total) passed")
        state.usableAt = clock.now
    }

    /// When the tier promises a retention or a backup interval: the restore points present against it. Broken promises
    /// make the drill non-compliant (DrillState.finish).
    func checkCoverage(_ method: any DrillMethod, _ drill: DrillConfig, tier: TierConfig, _ state: DrillState<C>) async {
        guard tier.retention != nil || tier.backupInterval != nil, method.hasRestorePoints else { return }
        do {
            let points = try await method.restorePoints(drill, deps.methodContext)
            let times = points.compactMap { $0.recoveryPoint ?? $0.createdAt ?? $0.modifiedAt }
            state.report.coverage = RetentionCoverage(times: times, now: state.startedAt, retention: tier.retention,
                                                      interval: tier.backupInterval)
        } catch {
            state.report.findings.append("The restore points could not be listed for the retention check: \(describe(error))")
        }
    }

    /// Tears down every scratch database the method adopted, newest first, except `kept` (`--keep`). The report's
    /// `scratch` describes the newest one (the one the checks ran in, when the drill got that far).
    func tearDown(_ scope: ScratchScope, keeping kept: (any ScratchDatabase)?, _ state: DrillState<C>) async {
        let all = scope.all
        guard let primary = kept ?? all.last else {
            // The drill ended before anything was provisioned: nothing exists, so nothing is left behind.
            state.report.scratch.removed = true
            state.report.scratch.detail = DrillReport.Scratch.noneCreated
            return
        }
        state.report.scratch.kind = primary.kind
        state.report.scratch.database = primary.database
        state.report.environment.serverVersion = primary.serverVersion
        state.report.restore.settings = primary.settings.isEmpty ? nil : primary.settings
        var removed = true
        var details: [String] = []
        var teardownSeconds = 0.0
        for scratch in all.reversed() {
            if let kept, scratch.kind == kept.kind, scratch.database == kept.database, scratch.connection == kept.connection {
                state.report.scratch.kept = true
                state.report.scratch.removed = false
                state.report.scratch.detail = "kept at the user's request (--keep)"
                observer.note("scratch database kept: \(scratch.keepInstructions)")
                continue
            }
            observer.phaseStarted(.teardown, detail: scratch.database)
            let t0 = clock.now
            let result = await scratch.teardown()
            let secs = seconds(t0.duration(to: clock.now))
            teardownSeconds += secs
            removed = removed && result.removed
            if let d = result.detail { details.append(d) }
            if !result.removed {
                state.report.findings.append("The scratch database could not be removed: \(result.detail ?? "unknown reason")")
            }
            observer.phaseFinished(.teardown, seconds: secs, ok: result.removed, detail: result.detail ?? "removed")
        }
        guard kept == nil else { return }
        state.report.scratch.removed = removed
        state.report.scratch.detail = details.isEmpty ? nil : details.joined(separator: "; ")
        state.report.scratch.teardownSeconds = teardownSeconds
    }

    private func record(_ error: any Error, _ state: DrillState<C>) {
        if error is CancellationError || Task.isCancelled {
            state.aborted = true
            state.report.findings.append("The drill was interrupted before it finished; the scratch database was torn down.")
            return
        }
        let message = URLRedaction.redactURLs(in: describe(error))
        state.failure = message
        state.failureCode = (error as? DrillError)?.code.rawValue
        state.report.findings.append(message)
        deps.logger.notice("drill failed", metadata: ["drill": "\(state.report.drill)", "error": "\(message)"])
    }
}

/// The drill ran past its time limit (`restore.timeout`).
struct TimeLimitExceeded: Error {}

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
