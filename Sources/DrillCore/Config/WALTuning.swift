import Foundation

/// How a physical drill delivers WAL to replay: files fetched at once, and how much fetched WAL may wait on disk ahead
/// of replay. The same keys in every physical method's drill file: `wal.connections` and `wal.window_mib` (a
/// `basebackup` drill's `wal` object also names its archive; the other methods' WAL comes from their repository or
/// catalogue, so their `wal` object holds only these two).
public struct WALTuning: Sendable, Equatable {
    /// WAL files fetched at once while the backup is restored and replayed (1–64, default 4).
    public var connections: Int
    /// At most this many bytes of fetched WAL wait on disk ahead of replay (default 1 GiB).
    public var windowBytes: Int64

    public static let `default` = WALTuning(connections: WALConfig.defaultConnections, windowBytes: WALConfig.defaultWindowBytes)

    public init(connections: Int, windowBytes: Int64) {
        self.connections = connections
        self.windowBytes = windowBytes
    }

    /// Reads `connections` and `window_mib` from a `wal` object (other keys are the caller's).
    public static func read(_ w: [String: JSONValue], reader r: ConfigReader) -> WALTuning {
        let connections = w["connections"].flatMap { r.integer($0, at: "wal.connections", range: 1...64) }
        let window = w["window_mib"].flatMap { r.integer($0, at: "wal.window_mib", range: 1...1_048_576) }
        return WALTuning(connections: connections ?? Self.default.connections,
                         windowBytes: window.map { Int64($0) << 20 } ?? Self.default.windowBytes)
    }

    /// The optional `wal` object of a method whose WAL comes from its repository or catalogue (`pgbackrest`, `barman`,
    /// `barman-cloud`): only `connections` and `window_mib`.
    public static func parse(_ value: JSONValue?, kind: MethodKind, reader r: ConfigReader) -> WALTuning {
        guard let value else { return .default }
        guard case .object(let members) = value else {
            _ = r.object(value, at: "wal", allowed: nil)
            return .default
        }
        for key in members.keys.sorted() where key != "connections" && key != "window_mib" {
            r.fail("wal.\(key)", "unknown key: a \(kind) drill's WAL comes from its \(kind == .pgbackrest ? "repository" : "catalogue"), so its wal object takes only connections and window_mib")
        }
        return read(members, reader: r)
    }
}
