import DrillCore
import Foundation
import Testing

/// How an archived WAL file is read: compressed by the archive command (`.gz`) or by the backup tool in place
/// (Barman keeps the plain name), recognised by magic bytes.
@Suite("archived WAL file formats")
struct WALFileFormatTests {
    @Test func codecs() {
        let gzip: [UInt8] = [0x1F, 0x8B, 0x08, 0x00]
        let bzip2 = Array("BZh9".utf8)
        let segment: [UInt8] = [0x10, 0xD1, 0x05, 0x00]  // PostgreSQL 15's XLOG_PAGE_MAGIC 0xD110, little-endian
        #expect(WALFileFormat.codec(name: "000000010000000000000005.gz", head: gzip) == "gzip")
        #expect(WALFileFormat.codec(name: "000000010000000000000005", head: gzip) == "gzip", "Barman's gzip keeps the plain name")
        #expect(WALFileFormat.codec(name: "000000010000000000000005", head: bzip2) == "bzip2")
        #expect(WALFileFormat.codec(name: "000000010000000000000005", head: segment) == nil)
        #expect(WALFileFormat.codec(name: "000000010000000000000005.gz", head: segment) == "gzip", "a .gz name that is not gzip: gzip says so")
        #expect(WALFileFormat.codec(name: "00000002.history", head: Array("1\t0/".utf8)) == nil)
        #expect(WALFileFormat.isSegment(segment))
        #expect(WALFileFormat.isSegment([0x06, 0xD1]), "13")
        #expect(WALFileFormat.isSegment([0x18, 0xD1]), "18")
        #expect(WALFileFormat.isSegment([0x98, 0xD0]), "11")
        #expect(!WALFileFormat.isSegment(Array("\u{04}\"M\u{18}".utf8)), "lz4, or anything else, is not a segment")
        #expect(!WALFileFormat.isSegment([]))
    }
}
