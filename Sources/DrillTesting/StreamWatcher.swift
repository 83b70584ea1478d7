import Foundation

/// Drains a pipe on a thread (so the writer never blocks) and lets a test wait for a piece of text to appear.
public final class StreamWatcher: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""

    public init(_ handle: FileHandle) {
        Thread {
            while true {
                let d = handle.availableData
                if d.isEmpty { break }
                self.lock.withLock { self.text += String(decoding: d, as: UTF8.self) }
            }
        }.start()
    }

    public var contents: String { lock.withLock { text } }

    /// Waits until `needle` has been read, or the timeout passes.
    public func waitFor(_ needle: String, timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if contents.contains(needle) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return contents.contains(needle)
    }

    /// Starts draining `handle` and waits for `needle`.
    public static func waitFor(_ needle: String, in handle: FileHandle, timeout: Double) async -> Bool {
        await StreamWatcher(handle).waitFor(needle, timeout: timeout)
    }
}
