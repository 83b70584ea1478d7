import DrillCore
import Foundation

/// Damages and edits real backup files for tests.
public enum ArchiveFixture {
    /// Keeps the first `fraction` of a file.
    public static func truncate(_ path: String, keeping fraction: Double) throws {
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber
        guard Glibc.truncate(path, off_t(Double(size.int64Value) * fraction)) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    /// Overwrites 4 KiB in the middle of a file with garbage.
    public static func corrupt(_ path: String) throws {
        let fh = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? fh.close() }
        let size = try fh.seekToEnd()
        try fh.seek(toOffset: size / 2)
        try fh.write(contentsOf: Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }))
    }

    /// The largest file of a directory-format dump (a table's data).
    public static func largestDataFile(in dir: String) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0 != "toc.dat" }
        let sized = try names.map { n -> (String, Int64) in
            let p = (dir as NSString).appendingPathComponent(n)
            return (p, (try FileManager.default.attributesOfItem(atPath: p)[.size] as! NSNumber).int64Value)
        }
        return sized.max { $0.1 < $1.1 }!.0
    }

    /// Moves a custom-format archive's creation time by whole years (the `tm_year` field of its header).
    public static func shiftCreationYear(_ path: String, by years: Int) throws {
        let fh = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? fh.close() }
        var bytes = [UInt8](try fh.read(upToCount: 4096) ?? Data())
        let offset = try yearOffset(bytes)
        let intSize = Int(bytes[8])
        var year = 0
        for i in 0..<intSize { year |= Int(bytes[offset + 1 + i]) << (8 * i) }
        year += years
        for i in 0..<intSize { bytes[offset + 1 + i] = UInt8((year >> (8 * i)) & 0xff) }
        try fh.seek(toOffset: 0)
        try fh.write(contentsOf: Data(bytes))
        _ = try ArchiveHeader.parse(bytes)
    }

    /// Byte offset of the sign byte of `tm_year` in a PG15-era (archive 1.14) custom header.
    static func yearOffset(_ b: [UInt8]) throws -> Int {
        guard b.count > 64, Array(b[0..<5]) == Array("PGDMP".utf8), b[6] == 14 || b[6] < 15 else {
            throw CocoaError(.fileReadCorruptFile)
        }
        let intSize = Int(b[8])
        // PGDMP(5) major minor rev intSize offSize format = 11 bytes; then compression int, then sec min hour mday mon year.
        return 11 + (1 + intSize) * 6
    }
}

extension ArchiveFixture {
    /// Overwrites 4 KiB in the middle of the largest regular member of an uncompressed tar file, leaving every tar
    /// header intact (tar extracts it; only a checksum can notice). Returns the member's name.
    @discardableResult
    public static func corruptLargestTarMember(_ path: String) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        var offset = 0
        var best: (name: String, start: Int, size: Int)?
        while offset + 512 <= data.count {
            let header = data[offset..<(offset + 512)]
            if header.allSatisfy({ $0 == 0 }) { break }
            let name = String(decoding: header.prefix(100).prefix { $0 != 0 }, as: UTF8.self)
            let sizeText = String(decoding: header.dropFirst(124).prefix(12).prefix { $0 != 0 && $0 != 32 }, as: UTF8.self)
            let size = Int(sizeText, radix: 8) ?? 0
            let type = header[header.startIndex + 156]
            if (type == 0x30 || type == 0) && size > (best?.size ?? 8192) { best = (name, offset + 512, size) }
            offset += 512 + (size + 511) / 512 * 512
        }
        guard let best else { throw CocoaError(.fileReadCorruptFile) }
        let fh = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? fh.close() }
        try fh.seek(toOffset: UInt64(best.start + best.size / 2 - 2048))
        try fh.write(contentsOf: Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }))
        return best.name
    }
}
