import DrillCore
import Foundation
import Testing

@Suite("Backup formats and selection")
struct BackupFormatTests {
    /// A custom-format header as pg_dump 15 writes it (archive 1.14, 4-byte ints); `compression` is the gzip level
    /// (before 1.15, default -1) or the algorithm byte (1.15 and later, default 1: gzip).
    static func header(format: UInt8 = 1, year: Int = 126, month: Int = 10, day: Int = 28, hour: Int = 7, minute: Int = 30,
                       second: Int = 5, minor: UInt8 = 14, compression: Int? = nil) -> [UInt8] {
        func int(_ v: Int) -> [UInt8] { [v < 0 ? 1 : 0] + (0..<4).map { UInt8((abs(v) >> (8 * $0)) & 0xff) } }
        func str(_ s: String) -> [UInt8] { int(s.utf8.count) + Array(s.utf8) }
        var b = Array("PGDMP".utf8) + [1, minor, 0, 4, 8, format]
        b += minor >= 15 ? [UInt8(compression ?? 1)] : int(compression ?? -1)
        b += int(second) + int(minute) + int(hour) + int(day) + int(month) + int(year) + int(0)
        b += str("shop") + str("15.18") + str("15.18")
        return b
    }

    @Test func parsesCustomHeader() throws {
        let h = try ArchiveHeader.parse(Self.header())
        #expect(h.format == .custom)
        #expect(h.databaseName == "shop")
        #expect(h.createdAt(in: TimeZone(identifier: "UTC")!) == RFC3339.parse("2026-11-28T07:30:05Z"))
        #expect(h.createdAt(in: TimeZone(identifier: "Europe/Berlin")!) == RFC3339.parse("2026-11-28T06:30:05Z"))
        #expect(try ArchiveHeader.parse(Self.header(minor: 15)).databaseName == "shop")
    }

    @Test("the compression every archive version records: a gzip level before 1.15, an algorithm from 1.15 (pg_dump 16) on",
          arguments: [(10, 6, DumpCompression.gzip), (12, 0, .none), (14, -1, .gzip), (14, 0, .none), (14, 9, .gzip),
                      (15, 0, .none), (15, 1, .gzip), (15, 2, .lz4), (15, 3, .zstd),
                      (16, 0, .none), (16, 1, .gzip), (16, 2, .lz4), (16, 3, .zstd)] as [(UInt8, Int, DumpCompression)])
    func readsCompression(minor: UInt8, value: Int, expected: DumpCompression) throws {
        let h = try ArchiveHeader.parse(Self.header(minor: minor, compression: value))
        #expect(h.compression == expected)
        // The fields after it are still read in their place.
        #expect(h.databaseName == "shop")
        #expect(h.pgDumpVersion == "15.18")
        #expect(h.createdAt(in: TimeZone(identifier: "UTC")!) == RFC3339.parse("2026-11-28T07:30:05Z"))
    }

    @Test func refusesAnUnknownCompressionAlgorithm() {
        #expect(throws: ArchiveHeader.ParseError.corrupt("unknown compression algorithm 4")) {
            try ArchiveHeader.parse(Self.header(minor: 16, compression: 4))
        }
    }

    @Test func rejectsDamagedHeaders() {
        #expect(throws: ArchiveHeader.ParseError.notAnArchive) { try ArchiveHeader.parse(Array("-- SQL".utf8)) }
        #expect(throws: ArchiveHeader.ParseError.truncated) { try ArchiveHeader.parse(Array(Self.header().prefix(30))) }
        #expect(throws: ArchiveHeader.ParseError.self) { try ArchiveHeader.parse(Self.header(format: 9)) }
        #expect(throws: ArchiveHeader.ParseError.self) { try ArchiveHeader.parse(Self.header(month: 14)) }
    }

    @Test func detectsFormats() {
        #expect(FormatDetector.detect(fileHead: Self.header()) == .format(.custom))
        #expect(FormatDetector.detect(fileHead: [0x1f, 0x8b, 8, 0]) == .format(.plainGzip))
        #expect(FormatDetector.detect(fileHead: Array("--\n-- PostgreSQL database dump\n--\n".utf8)) == .format(.plain))
        var tar = [UInt8](repeating: 0, count: 1024)
        tar.replaceSubrange(0..<7, with: Array("toc.dat".utf8))
        tar.replaceSubrange(257..<262, with: Array("ustar".utf8))
        #expect(FormatDetector.detect(fileHead: tar) == .format(.tar))
        if case .unknown = FormatDetector.detect(fileHead: []) {} else { Issue.record("empty file accepted") }
        if case .unknown = FormatDetector.detect(fileHead: Array("hello".utf8)) {} else { Issue.record("random text accepted") }
        #expect(FormatDetector.detect(fileHead: Array("--\n-- PostgreSQL database cluster dump\n--\n".utf8)) == .format(.dumpall))
    }

    @Test(arguments: [("shop-*.dump", "shop-2026.dump", true), ("shop-*.dump", "shop-2026.sql", false),
                      ("*", "anything", true), ("db?.sql", "db1.sql", true), ("db?.sql", "db12.sql", false),
                      ("[ab]*.gz", "a1.gz", true), ("[!ab]*.gz", "a1.gz", false), ("*.tar", ".tar", true)])
    func globs(pattern: String, name: String, matches: Bool) {
        #expect(Glob(pattern).matches(name) == matches)
    }

    @Test func latestIsNewestByModificationTime() {
        let t = Date(timeIntervalSince1970: 1_000_000)
        let objects = [
            BackupObject(uri: "/b/z", name: "z", sizeBytes: 1, modifiedAt: t),
            BackupObject(uri: "/b/a", name: "a", sizeBytes: 1, modifiedAt: t.addingTimeInterval(10)),
            BackupObject(uri: "/b/m", name: "m", sizeBytes: 1, modifiedAt: t.addingTimeInterval(5)),
        ]
        #expect(objects.latest()?.name == "a")
        #expect([BackupObject]().latest() == nil)
    }

    @Test func sidecars() {
        let hex = String(repeating: "ab", count: 32)
        #expect(parseSHA256Sidecar("\(hex)  shop.dump\n") == hex)
        #expect(parseSHA256Sidecar(hex.uppercased()) == hex)
        #expect(parseSHA256Sidecar("not a digest") == nil)
    }
}
