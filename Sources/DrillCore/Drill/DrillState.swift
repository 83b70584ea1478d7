import Foundation

/// The report under construction and the phase clock of one drill. Shared by the drill's concurrent phases, guarded by
/// a lock.
final class DrillState<C: Clock>: RunRecorder, @unchecked Sendable where C.Duration == Duration {
    private let lock = NSLock()
    private var _report: DrillReport
    private var phaseStarts: [PhaseName: C.Instant] = [:]
    let start: C.Instant
    let clock: C
    let startedAt: Date
    let jobs: Int
    let tier: TierConfig
    var restored = false
    var aborted = false
    var failure: String?
    /// The `DrillError` code of the failure, when it was one.
    var failureCode: String?
    /// What the recovery point is measured against: the drill's start, or an explicit recovery target.
    var rpoReference: Date?
    /// When the method read what it recovered from (see `Restored.sourceReadAt`).
    var sourceReadAt: Date?
    var usableAt: C.Instant?
    /// The database the checks run in (kept with `--keep`).
    var checked: (any ScratchDatabase)?
    /// Set when the drill ran past its time limit (`restore.timeout`) and was stopped: the limit and when.
    var stopped: (limit: DrillDuration, at: C.Instant)?
    /// An RPO / RTO the method measured itself (`Restored.rpo`, `.rto`): used instead of the arithmetic below.
    var methodRPO: MethodMeasure?
    var methodRTO: MethodMeasure?
    /// Conditions the method found that make the drill non-compliant (`Restored.violations`).
    var violations: [String] = []

    init(drill: DrillConfig, tier: TierConfig, startedAt: Date, start: C.Instant, clock: C, jobs: Int, hostName: String,
         drillVersion: String) {
        self.start = start
        self.clock = clock
        self.startedAt = startedAt
        self.jobs = jobs
        self.tier = tier
        _report = DrillReport(
            drill: drill.name, tier: tier.name, status: .failed, startedAt: startedAt, finishedAt: startedAt,
            target: .init(rtoSeconds: tier.rto.seconds, rpoSeconds: tier.rpo.seconds),
            measured: .init(),
            backup: .init(uri: URLRedaction.redactURLs(in: drill.settings.source)),
            restore: .init(jobs: jobs, profile: drill.restore.profile),
            phases: [], checks: [], findings: [],
            scratch: .init(kind: drill.target.kind, removed: false, kept: false),
            environment: .init(drillVersion: drillVersion, host: hostName, configFile: drill.file.isEmpty ? nil : drill.file),
            method: drill.method)
    }

    var report: DrillReport {
        get { lock.withLock { _report } }
        _modify {
            lock.lock()
            defer { lock.unlock() }
            yield &_report
        }
    }

    func withReport(_ body: (inout DrillReport) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        body(&_report)
    }

    func beginPhase(_ p: PhaseName) { lock.withLock { phaseStarts[p] = clock.now } }

    func endPhase(_ p: PhaseName, ok: Bool, observer: any PhaseObserver, detail: String) {
        endPhase(p, ok: ok, observer: observer, detail: detail, bytes: nil)
    }

    func endPhase(_ p: PhaseName, ok: Bool, observer: any PhaseObserver, detail: String, bytes: Int64?) {
        let now = clock.now
        let phase: DrillReport.Phase? = lock.withLock { () -> DrillReport.Phase? in
            guard let s = phaseStarts.removeValue(forKey: p) else { return nil }
            let ph = DrillReport.Phase(name: p.rawValue, startOffsetSeconds: seconds(start.duration(to: s)), seconds: seconds(s.duration(to: now)), ok: ok, bytes: bytes)
            _report.phases.append(ph)
            return ph
        }
        if let phase { observer.phaseFinished(p, seconds: phase.seconds, ok: ok, detail: detail) }
    }

    /// Closes a phase that did not succeed (no-op if it was not open).
    func failPhase(_ p: PhaseName, observer: any PhaseObserver) {
        endPhase(p, ok: false, observer: observer, detail: "failed")
    }

    /// Computes the measurements and the status, and stamps the finish time.
    func finish(now: Date) -> DrillReport {
        for p in lock.withLock({ Array(phaseStarts.keys) }) {
            endPhase(p, ok: false, observer: SilentObserver(), detail: "")
        }
        var r = report
        r.phases.sort { $0.startOffsetSeconds < $1.startOffsetSeconds }
        r.finishedAt = now
        // RPO: the drill's start (or a point-in-time recovery's target) minus the recovery point: the archive header or
        // file time of a dump, the last replayed commit of a physical restore.
        // Time you can trust: a recovery point after the drill's start is a clock problem on the backup's side, never a
        // negative RPO; the RPO is then not measured, and not met.
        var futureRecoveryPoint = false
        if let m = methodRPO {
            r.measured.rpoSeconds = m.seconds.map { ($0 * 1000).rounded() / 1000 }
        } else if let rp = r.measured.recoveryPoint, rp > max(startedAt, sourceReadAt ?? startedAt) {
            futureRecoveryPoint = true
            r.findings.append(TimeTrust.futureRecoveryPoint(rp, source: r.measured.recoveryPointSource, drillStart: startedAt,
                                                            readAt: sourceReadAt))
        } else if let rp = r.measured.recoveryPoint {
            // A target can fall between two commits, so the last replayed one precedes it; and a commit written while
            // the drill ran (archived before the method read the archive) lost nothing: never negative.
            let gap = max(0, (rpoReference ?? startedAt).timeIntervalSince(rp))
            r.measured.rpoSeconds = (gap * 1000).rounded() / 1000
        }
        // A future file time keeps that backup "the latest" for good: say so, unless it is the recovery point just named.
        if let modified = r.backup.modifiedAt, modified > startedAt,
           !(futureRecoveryPoint && r.measured.recoveryPoint == modified) {
            r.findings.append(TimeTrust.futureFileTime(modified, drillStart: startedAt))
        }
        r.failureCode = failureCode
        if let m = methodRTO {
            r.measured.rtoSeconds = restored ? m.seconds.map { ($0 * 1000).rounded() / 1000 } : nil
        } else if let usableAt, restored {
            r.measured.rtoSeconds = (seconds(start.duration(to: usableAt)) * 1000).rounded() / 1000
        } else if let stopped {
            // Not usable within the limit: the RTO measured so far, a lower bound.
            r.measured.rtoSeconds = (seconds(start.duration(to: stopped.at)) * 1000).rounded() / 1000
        }

        if aborted {
            r.status = .aborted
        } else if let stopped {
            r.findings.append("Stopped after \(stopped.limit) (restore.timeout): the drill ran past its time limit and was torn down; "
                + "the RTO measured so far is \(formatSeconds(r.measured.rtoSeconds ?? 0)), and the database was not shown usable.")
            r.status = .nonCompliant
        } else if !restored || failure != nil {
            r.status = .failed
        } else {
            var misses = violations
            if let rto = r.measured.rtoSeconds, rto > Double(tier.rto.seconds) {
                misses.append("Measured RTO \(formatSeconds(rto)) exceeds the \(tier.name) target of \(tier.rto).")
            }
            // (Not `if case … ? = methodRTO`: that pattern on the stored optional crashes the Swift 6.3 optimizer in
            // release builds, "Found ownership error" in CopyPropagation.)
            if let why = methodRTO?.notMeasuredReason {
                misses.append("The RTO was not measured (\(why)): the \(tier.name) RTO target of \(tier.rto) is unverified.")
            }
            if let rpo = r.measured.rpoSeconds, rpo > Double(tier.rpo.seconds) {
                misses.append("Measured RPO \(formatSeconds(rpo)) exceeds the \(tier.name) target of \(tier.rpo)" +
                              (methodRPO == nil ? ": the newest backup is too old." : "."))
            }
            if let why = methodRPO?.notMeasuredReason {
                misses.append("The RPO was not measured (\(why)), so the \(tier.name) RPO target of \(tier.rpo) cannot be shown to hold.")
            } else if futureRecoveryPoint {
                misses.append("The RPO cannot be measured from a recovery point in the future, so the \(tier.name) target of \(tier.rpo) is not shown to hold.")
            } else if r.measured.rpoSeconds == nil {
                misses.append("The recovery point of the backup is unknown, so the RPO cannot be shown to hold.")
            }
            misses += r.coverage?.findings ?? []
            r.findings += misses
            r.status = misses.isEmpty && r.checks.allSatisfy(\.passed) ? .compliant : .nonCompliant
        }
        return r
    }
}
