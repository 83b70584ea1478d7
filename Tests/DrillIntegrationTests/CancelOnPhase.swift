import DrillCore
import Foundation

/// Cancels a drill's task as soon as a given phase starts (an interruption at a known point).
final class CancelOnPhase: PhaseObserver, @unchecked Sendable {
    let phase: PhaseName
    private let lock = NSLock()
    private var _task: Task<DrillReport, Never>?
    private var _fired = false
    init(_ phase: PhaseName) { self.phase = phase }
    var task: Task<DrillReport, Never>? {
        get { lock.withLock { _task } }
        set { lock.withLock { _task = newValue } }
    }
    var fired: Bool { lock.withLock { _fired } }
    func drillStarted(_ drill: String, tier: String) {}
    func phaseStarted(_ p: PhaseName, detail: String) {
        guard p == phase else { return }
        lock.withLock { _fired = true }
        // The task is set right after it starts; wait for it if the phase comes first.
        while task == nil { usleep(1000) }
        task?.cancel()
    }
    func phaseFinished(_ phase: PhaseName, seconds: Double, ok: Bool, detail: String) {}
    func transfer(done: Int64, total: Int64?) {}
    func note(_ text: String) {}
}
