import Foundation

/// The header of a `pg_dump` archive (custom, directory's `toc.dat`, or tar's `toc.dat` member), read from its first
/// bytes: the archive version, format, compression, creation time and source versions.
///
/// The creation time is stored as local-time calendar fields of the machine that ran `pg_dump`, without a zone;
/// `createdAt(in:)` resolves it in a given zone (by default the drill host's, as `pg_restore -l` does).
public struct ArchiveHeader: Sendable, Equatable {
    public var version: (major: UInt8, minor: UInt8, rev: UInt8) { (major, minor, rev) }
    public var major: UInt8
    public var minor: UInt8
    public var rev: UInt8
    public var format: BackupFormat
    /// How the archive's data is compressed: the algorithm of a 1.15+ header, gzip or none from an older one's level.
    public var compression: DumpCompression
    public var created: DateComponents
    public var databaseName: String?
    public var serverVersion: String?
    public var pgDumpVersion: String?

    public func createdAt(in zone: TimeZone) -> Date? {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = zone
        return cal.date(from: created)
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notAnArchive
        case truncated
        case unsupportedVersion(String)
        case corrupt(String)

        public var description: String {
            switch self {
            case .notAnArchive: "not a pg_dump archive (no PGDMP signature)"
            case .truncated: "the archive header is truncated"
            case .unsupportedVersion(let v): "unsupported archive version \(v)"
            case .corrupt(let why): "the archive header is corrupt: \(why)"
            }
        }
    }

    /// Parses a header from the first bytes of an archive (`bytes` starts with `PGDMP`).
    public static func parse(_ bytes: [UInt8]) throws -> ArchiveHeader {
        var r = Reader(bytes: bytes)
        guard bytes.count >= 5, Array(bytes[0..<5]) == Array("PGDMP".utf8) else { throw ParseError.notAnArchive }
        r.pos = 5
        let major = try r.byte(), minor = try r.byte()
        let rev: UInt8 = major > 1 || (major == 1 && minor > 0) ? try r.byte() : 0
        let v = "\(major).\(minor).\(rev)"
        guard major == 1, minor >= 10, minor <= 16 else { throw ParseError.unsupportedVersion(v) }
        let intSize = Int(try r.byte()), offSize = Int(try r.byte())
        guard (1...8).contains(intSize), (1...8).contains(offSize) else { throw ParseError.corrupt("integer size \(intSize)") }
        r.intSize = intSize
        let formatByte = try r.byte()
        let format: BackupFormat
        switch formatByte {
        case 1: format = .custom
        case 3: format = .tar
        case 5: format = .directory
        default: throw ParseError.corrupt("unknown format code \(formatByte)")
        }
        let compression: DumpCompression
        if minor >= 15 {
            let algorithm = try r.byte()
            guard let c = DumpCompression(algorithm: algorithm) else { throw ParseError.corrupt("unknown compression algorithm \(algorithm)") }
            compression = c
        } else {
            compression = DumpCompression(gzipLevel: try r.int())
        }
        let sec = try r.int(), min = try r.int(), hour = try r.int(), mday = try r.int(), mon = try r.int()
        let year = try r.int()
        _ = try r.int()  // isdst
        guard (0...61).contains(sec), (0...59).contains(min), (0...23).contains(hour), (1...31).contains(mday),
              (0...11).contains(mon), (0...1100).contains(year)
        else { throw ParseError.corrupt("impossible creation time") }
        let db = try r.string(), server = try r.string(), dump = try r.string()
        return ArchiveHeader(major: major, minor: minor, rev: rev, format: format, compression: compression,
                             created: DateComponents(year: 1900 + year, month: mon + 1, day: mday, hour: hour,
                                                     minute: min, second: sec),
                             databaseName: db, serverVersion: server, pgDumpVersion: dump)
    }

    private struct Reader {
        var bytes: [UInt8]
        var pos = 0
        var intSize = 4

        mutating func byte() throws -> UInt8 {
            guard pos < bytes.count else { throw ParseError.truncated }
            defer { pos += 1 }
            return bytes[pos]
        }

        /// pg_dump's `WriteInt`: a sign byte, then `intSize` bytes little-endian.
        mutating func int() throws -> Int {
            let sign = try byte()
            var v = 0
            for i in 0..<intSize {
                let b = Int(try byte())
                if i < 7 { v |= b << (8 * i) }
            }
            return sign == 0 ? v : -v
        }

        mutating func string() throws -> String? {
            let n = try int()
            if n < 0 { return nil }
            guard n < 4096 else { throw ParseError.corrupt("string length \(n)") }
            guard pos + n <= bytes.count else { throw ParseError.truncated }
            defer { pos += n }
            return String(decoding: bytes[pos..<(pos + n)], as: UTF8.self)
        }
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.major == b.major && a.minor == b.minor && a.rev == b.rev && a.format == b.format && a.compression == b.compression && a.created == b.created
            && a.databaseName == b.databaseName && a.serverVersion == b.serverVersion && a.pgDumpVersion == b.pgDumpVersion
    }
}

/// Recognises a backup's format from its first bytes (and, for a folder, whether it holds `toc.dat`).
public enum FormatDetector {
    public enum Outcome: Sendable, Equatable {
        case format(BackupFormat)
        case unknown(String)
    }

    /// `head` is the first bytes of a file (4 KiB is plenty).
    public static func detect(fileHead head: [UInt8]) -> Outcome {
        if head.count >= 5, Array(head[0..<5]) == Array("PGDMP".utf8) { return .format(.custom) }
        if head.count >= 2, head[0] == 0x1f, head[1] == 0x8b { return .format(.plainGzip) }
        if Codec.detect(head) != nil { return .format(.encoded) }
        if head.count >= 262, Array(head[257..<262]) == Array("ustar".utf8) {
            let name = String(decoding: head[0..<100].prefix(while: { $0 != 0 }), as: UTF8.self)
            if name == "toc.dat" { return .format(.tar) }
            if name.hasPrefix("base") || name == "backup_label" || name == "PG_VERSION" { return .format(.basebackup) }
            return .unknown("a tar file that is not a pg_dump archive (first member \(name))")
        }
        if head.isEmpty { return .unknown("the file is empty") }
        if head.contains(0) { return .unknown("binary data that is not a pg_dump archive") }
        let text = String(decoding: head, as: UTF8.self)
        if text.contains("PostgreSQL database cluster dump") { return .format(.dumpall) }
        if text.contains("PostgreSQL database dump") { return .format(.plain) }
        return .unknown("text without the pg_dump header; set backup.format to \"plain\" if it is SQL")
    }

    /// The header bytes of a tar-format archive: the `toc.dat` member's content starts after its 512-byte tar header.
    public static func tarTocBytes(_ head: [UInt8]) -> [UInt8] {
        head.count > 512 ? Array(head[512...]) : []
    }
}
