/// A phase of a drill, as the report names it. Teardown is recorded separately and is not part of the RTO.
///
/// Each method runs its own phases (docs/methods.md): a `dump` drill runs fetch ∥ provision → restore → checks; a
/// `basebackup` drill runs fetch → provision → extract → verify → wal_fetch → wal_replay → checks. A method may name a
/// phase of its own.
public struct PhaseName: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    public static let fetch = PhaseName(rawValue: "fetch")
    public static let provision = PhaseName(rawValue: "provision")
    public static let extract = PhaseName(rawValue: "extract")
    /// `pg_combinebackup` of an incremental chain (PostgreSQL 17+) into one full backup.
    public static let combine = PhaseName(rawValue: "combine")
    public static let verify = PhaseName(rawValue: "verify")
    public static let walFetch = PhaseName(rawValue: "wal_fetch")
    public static let walReplay = PhaseName(rawValue: "wal_replay")
    public static let restore = PhaseName(rawValue: "restore")
    public static let checks = PhaseName(rawValue: "checks")
    public static let teardown = PhaseName(rawValue: "teardown")
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
