import Logging

/// A log handler that redacts every URL in a message and in its metadata (`URLRedaction.redactURLs(in:)`) before
/// handing the entry to the handler it wraps: a last line behind the code that builds log lines, so a location with
/// credentials or a pre-signed URL's signature never reaches a log.
public struct RedactingLogHandler: LogHandler {
    public var wrapped: any LogHandler

    public init(_ wrapped: any LogHandler) { self.wrapped = wrapped }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
                    file: String, function: String, line: UInt) {
        wrapped.log(level: level, message: "\(URLRedaction.redactURLs(in: message.description))",
                    metadata: metadata.map(Self.redact), source: source, file: file, function: function, line: line)
    }

    static func redact(_ metadata: Logger.Metadata) -> Logger.Metadata {
        metadata.mapValues(redact)
    }

    static func redact(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let s): .string(URLRedaction.redactURLs(in: s))
        case .stringConvertible(let c): .string(URLRedaction.redactURLs(in: c.description))
        case .array(let a): .array(a.map(redact))
        case .dictionary(let d): .dictionary(redact(d))
        }
    }
}
