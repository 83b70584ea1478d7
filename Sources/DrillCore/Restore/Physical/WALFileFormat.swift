import Foundation

/// What an archived WAL file holds, from its name and first bytes: archive commands compress with a suffix
/// (`gzip < %p > %f.gz`), Barman compresses in place and keeps the plain name.
public enum WALFileFormat {
    /// The tool that decompresses the file (`gzip`, `bzip2`: both read `-dc`), or nil for a plain file.
    public static func codec(name: String, head: [UInt8]) -> String? {
        if head.starts(with: [0x1F, 0x8B]) { return "gzip" }
        if head.starts(with: Array("BZh".utf8)) { return "bzip2" }
        // A `.gz` name whose bytes are not gzip: gzip says what is wrong.
        if name.hasSuffix(".gz") { return "gzip" }
        return nil
    }

    /// Whether the first bytes are a WAL page header: `xlp_magic`, little-endian, is 0xD0xx (PostgreSQL 10–12) or
    /// 0xD1xx (13 and later).
    public static func isSegment(_ head: [UInt8]) -> Bool {
        head.count >= 2 && (head[1] == 0xD0 || head[1] == 0xD1)
    }
}
