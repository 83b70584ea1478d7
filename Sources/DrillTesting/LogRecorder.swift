import Foundation
import Logging

/// Records log messages (level, message, metadata as text), to check what a component logged.
public final class LogRecorder: LogHandler, @unchecked Sendable {
    public struct Entry: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
    }

    private let lock = NSLock()
    private var entries: [Entry] = []
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init() {}

    public var messages: [Entry] { lock.withLock { entries } }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
                    function: String, line: UInt) {
        let all = self.metadata.merging(metadata ?? [:]) { $1 }.mapValues { "\($0)" }
        lock.withLock { entries.append(Entry(level: level, message: "\(message)", metadata: all)) }
    }
}
