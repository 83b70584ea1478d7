/// A write-ahead log position (`pg_lsn`), written `XXXXXXXX/YYYYYYYY` in hex.
public struct LSN: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The 64-bit byte position.
    public var value: UInt64

    public init(_ value: UInt64) { self.value = value }

    /// Parses `0/2000028`; nil when malformed.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...8).contains(parts[0].count), (1...8).contains(parts[1].count),
              let hi = UInt64(parts[0], radix: 16), let lo = UInt64(parts[1], radix: 16) else { return nil }
        value = hi << 32 | lo
    }

    public var description: String {
        String(value >> 32, radix: 16, uppercase: true) + "/" + String(value & 0xFFFF_FFFF, radix: 16, uppercase: true)
    }

    public static func < (a: LSN, b: LSN) -> Bool { a.value < b.value }
}

/// One WAL segment file: a timeline and a position in the log, named `TTTTTTTTXXXXXXXXYYYYYYYY` (24 hex digits).
///
/// Segments are ordered by position first, then timeline. The segment size (16 MiB unless the cluster was initialised
/// with `--wal-segsize`) decides how positions map to names.
public struct WALSegment: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let defaultSize: UInt64 = 16 * 1024 * 1024

    public var timeline: UInt32
    /// The segment number: byte position in the log divided by the segment size.
    public var number: UInt64
    public var segmentSize: UInt64

    public init(timeline: UInt32, number: UInt64, segmentSize: UInt64 = WALSegment.defaultSize) {
        self.timeline = timeline
        self.number = number
        self.segmentSize = segmentSize
    }

    /// The segment holding `lsn` on `timeline`.
    public init(lsn: LSN, timeline: UInt32, segmentSize: UInt64 = WALSegment.defaultSize) {
        self.init(timeline: timeline, number: lsn.value / segmentSize, segmentSize: segmentSize)
    }

    /// Parses a segment file name (exactly 24 upper-case hex digits); nil for anything else.
    public init?(name: String, segmentSize: UInt64 = WALSegment.defaultSize) {
        guard Self.looksLikeName(name) else { return nil }
        let u = Array(name.utf8)
        func field(_ i: Int) -> UInt32? { UInt32(String(decoding: u[(i * 8)..<(i * 8 + 8)], as: UTF8.self), radix: 16) }
        guard let tli = field(0), let log = field(1), let seg = field(2), segmentSize > 0 else { return nil }
        let perLog = Self.segmentsPerLogID(segmentSize)
        guard UInt64(seg) < perLog else { return nil }
        self.init(timeline: tli, number: UInt64(log) * perLog + UInt64(seg), segmentSize: segmentSize)
    }

    /// Whether `name` has the shape of a segment file name (24 upper-case hex digits), whatever the segment size.
    public static func looksLikeName(_ name: String) -> Bool {
        name.utf8.count == 24 && name.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x46).contains($0) }
    }

    /// How many segments one 4 GiB "log id" holds.
    static func segmentsPerLogID(_ size: UInt64) -> UInt64 { 0x1_0000_0000 / size }

    /// The 24-hex-digit file name.
    public var name: String {
        let perLog = Self.segmentsPerLogID(segmentSize)
        return hex8(UInt64(timeline)) + hex8(number / perLog) + hex8(number % perLog)
    }

    public var description: String { name }

    /// The next segment on the same timeline.
    public var next: WALSegment { WALSegment(timeline: timeline, number: number + 1, segmentSize: segmentSize) }

    public static func < (a: WALSegment, b: WALSegment) -> Bool {
        a.number != b.number ? a.number < b.number : a.timeline < b.timeline
    }
}

func hex8(_ v: UInt64) -> String {
    let s = String(v, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 8 - s.count)) + s
}
