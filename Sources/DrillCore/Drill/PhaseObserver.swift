/// The drill's phases, in order. Teardown is recorded separately and is not part of the RTO.
///
/// A pg_dump drill runs fetch ∥ provision → restore → checks; a physical one runs fetch → provision → extract →
/// verify → wal_fetch → wal_replay → checks.
public enum PhaseName: String, Sendable, CaseIterable {
    case fetch, provision, extract, verify
    case walFetch = "wal_fetch"
    case walReplay = "wal_replay"
    case restore, checks, teardown
}

/// Receives live progress of a drill, for the terminal.
public protocol PhaseObserver: Sendable {
    func drillStarted(_ drill: String, tier: String)
    func phaseStarted(_ phase: PhaseName, detail: String)
    func phaseFinished(_ phase: PhaseName, seconds: Double, ok: Bool, detail: String)
    /// Transfer progress during fetch (bytes done, total when known).
    func transfer(done: Int64, total: Int64?)
    func note(_ text: String)
}

/// An observer that ignores everything.
public struct SilentObserver: PhaseObserver {
    public init() {}
    public func drillStarted(_ drill: String, tier: String) {}
    public func phaseStarted(_ phase: PhaseName, detail: String) {}
    public func phaseFinished(_ phase: PhaseName, seconds: Double, ok: Bool, detail: String) {}
    public func transfer(done: Int64, total: Int64?) {}
    public func note(_ text: String) {}
}
