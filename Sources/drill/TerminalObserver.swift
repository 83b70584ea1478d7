import DrillCore
import Foundation

/// Shows a drill's phases on stderr: a live line with a spinner and elapsed time on a terminal, plain timestamped
/// lines otherwise (cron, CI, logs).
final class TerminalObserver: PhaseObserver, @unchecked Sendable {
    private let interactive: Bool
    private let lock = NSLock()
    private var drill = ""
    private var current: (PhaseName, String, Date)?
    private var transfer: (Int64, Int64?, Date)?
    private var transferStart: (at: Date, done: Int64)?
    private var lastProgressLine: Date?
    /// Seconds between two progress lines without a terminal.
    private let lineInterval: Double
    private var timer: DispatchSourceTimer?
    private var frame = 0
    private static let frames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

    /// Seconds between progress lines without a terminal: `DRILL_PROGRESS_SECONDS` (or its earlier name
    /// `DRILL_PROGRESS_INTERVAL`), a finite number ≥ 0 (0: a line at every update), else 30.
    static func lineInterval(_ environment: [String: String]) -> Double {
        guard let text = environment["DRILL_PROGRESS_SECONDS"] ?? environment["DRILL_PROGRESS_INTERVAL"],
              let seconds = Double(text), seconds >= 0, seconds.isFinite else { return 30 }
        return seconds
    }

    /// `lineInterval`: seconds between two progress lines without a terminal (`lineInterval(_:)`).
    init(interactive: Bool, lineInterval: Double = 30) {
        self.interactive = interactive
        self.lineInterval = lineInterval
        if interactive {
            let t = DispatchSource.makeTimerSource(queue: .global())
            t.schedule(deadline: .now(), repeating: .milliseconds(100))
            t.setEventHandler { [weak self] in self?.tick() }
            t.resume()
            timer = t
        }
    }

    deinit { timer?.cancel() }

    func stop() {
        timer?.cancel()
        timer = nil
        lock.withLock { if interactive { write("\r\u{1B}[2K") } }
    }

    func drillStarted(_ drill: String, tier: String) {
        lock.withLock {
            self.drill = drill
            line("drill \(drill) (tier \(tier)) started")
        }
    }

    func phaseStarted(_ phase: PhaseName, detail rawDetail: String) {
        let detail = URLRedaction.redactURLs(in: rawDetail)  // a location may carry credentials or a signature
        lock.withLock {
            // Phases overlap (WAL is fetched while a base backup is extracted): the live line stays with the open
            // phase whose transfer is under way.
            if !(current != nil && transfer != nil) {
                current = (phase, detail, Date())
                transfer = nil
                transferStart = nil
                lastProgressLine = nil
            }
            if !interactive { line("\(phase.rawValue): started (\(detail))") }
        }
    }

    func phaseFinished(_ phase: PhaseName, seconds: Double, ok: Bool, detail rawDetail: String) {
        let detail = URLRedaction.redactURLs(in: rawDetail)
        lock.withLock {
            if current?.0 == phase { current = nil }
            line("\(ok ? "✓" : "✗") \(phase.rawValue) \(formatSeconds(seconds))\(detail.isEmpty ? "" : " — \(detail)")")
        }
    }

    func transfer(done: Int64, total: Int64?) {
        lock.withLock {
            let now = Date()
            if transferStart == nil {
                transferStart = (now, done)
                lastProgressLine = now
            }
            transfer = (done, total, now)
            // Without a terminal, a timestamped progress line every 30 s (logs of long restores show they move).
            if !interactive, let last = lastProgressLine, now.timeIntervalSince(last) >= lineInterval, let phase = current?.0 {
                lastProgressLine = now
                line("\(phase.rawValue): \(progressText())")
            }
        }
    }

    /// `1.2 GiB of 3.4 GiB (35%), ETA 1m 02s, 120.0 MiB/s`. Call with the lock held.
    private func progressText() -> String {
        guard let (done, total, _) = transfer, let start = transferStart else { return "" }
        return ProgressEstimate(done: done, total: total, startDone: start.done, elapsedSeconds: Date().timeIntervalSince(start.at)).text
    }

    func note(_ text: String) { lock.withLock { line(URLRedaction.redactURLs(in: text)) } }

    /// Prints a full line (above the live line on a terminal). Call with the lock held.
    private func line(_ text: String) {
        if interactive {
            write("\r\u{1B}[2K  \(text)\n")
        } else {
            write("\(RFC3339.format(Date())) \(drill.isEmpty ? "" : drill + ": ")\(text)\n")
        }
    }

    private func tick() {
        lock.withLock {
            guard let (phase, detail, started) = current else { return }
            frame = (frame + 1) % Self.frames.count
            var text = "\(Self.frames[frame]) \(phase.rawValue) \(formatSeconds(Date().timeIntervalSince(started))) — \(detail)"
            if transfer != nil { text += " — " + progressText() }
            write("\r\u{1B}[2K" + String(text.prefix(200)))
        }
    }

    private func write(_ s: String) { Console.write(FileHandle.standardError, s) }
}
