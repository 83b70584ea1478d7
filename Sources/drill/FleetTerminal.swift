import DrillCore
import Foundation

/// Progress of several drills running at once (`drill run --parallel N`): on a terminal, one live line per running
/// drill, redrawn in place, with finished phases printed above them; without a terminal, timestamped lines prefixed
/// with their drill. Each drill reports through its own `lane(_:)`.
final class FleetTerminal: @unchecked Sendable {
    private let interactive: Bool
    private let lock = NSLock()
    private var order: [String] = []
    private var status: [String: (phase: String, detail: String, since: Date)] = [:]
    private var drawn = 0
    private var timer: DispatchSourceTimer?

    init(interactive: Bool) {
        self.interactive = interactive
        if interactive {
            let t = DispatchSource.makeTimerSource(queue: .global())
            t.schedule(deadline: .now(), repeating: .milliseconds(250))
            t.setEventHandler { [weak self] in self?.redraw() }
            t.resume()
            timer = t
        }
    }

    func lane(_ drill: String) -> any PhaseObserver { Lane(drill: drill, fleet: self) }

    func stop() {
        timer?.cancel()
        timer = nil
        lock.withLock { if interactive { clearLive() } }
    }

    fileprivate func started(_ drill: String, phase: String, detail: String) {
        lock.withLock {
            if !order.contains(drill) { order.append(drill) }
            status[drill] = (phase, detail, Date())
            if !interactive { emit(drill, "\(phase): started (\(detail))") }
        }
    }

    fileprivate func line(_ drill: String, _ text: String, done: Bool = false) {
        lock.withLock {
            emit(drill, text)
            if done {
                order.removeAll { $0 == drill }
                status[drill] = nil
            }
        }
    }

    /// Prints a line (above the live lines on a terminal). Call with the lock held.
    private func emit(_ drill: String, _ text: String) {
        if interactive {
            clearLive()
            write("  [\(drill)] \(text)\n")
            drawLive()
        } else {
            write("\(RFC3339.format(Date())) \(drill): \(text)\n")
        }
    }

    private func redraw() {
        lock.withLock {
            clearLive()
            drawLive()
        }
    }

    private func clearLive() {
        guard drawn > 0 else { return }
        write(String(repeating: "\u{1B}[1A\u{1B}[2K", count: drawn) + "\r")
        drawn = 0
    }

    private func drawLive() {
        for drill in order {
            guard let s = status[drill] else { continue }
            let text = "… [\(drill)] \(s.phase) \(formatSeconds(Date().timeIntervalSince(s.since))) — \(s.detail)"
            write(String(text.prefix(160)) + "\n")
            drawn += 1
        }
    }

    private func write(_ s: String) { Console.write(FileHandle.standardError, s) }

    private struct Lane: PhaseObserver {
        let drill: String
        let fleet: FleetTerminal
        func drillStarted(_ drill: String, tier: String) { fleet.line(drill, "started (tier \(tier))") }
        // Details and notes may name a location with credentials or a signature: redacted, as in TerminalObserver.
        func phaseStarted(_ phase: PhaseName, detail: String) {
            fleet.started(drill, phase: phase.rawValue, detail: URLRedaction.redactURLs(in: detail))
        }
        func phaseFinished(_ phase: PhaseName, seconds: Double, ok: Bool, detail rawDetail: String) {
            let detail = URLRedaction.redactURLs(in: rawDetail)
            fleet.line(drill, "\(ok ? "✓" : "✗") \(phase.rawValue) \(formatSeconds(seconds))\(detail.isEmpty ? "" : " — \(detail)")",
                       done: phase == .teardown)
        }
        func transfer(done: Int64, total: Int64?) {}
        func note(_ text: String) { fleet.line(drill, URLRedaction.redactURLs(in: text)) }
    }
}
