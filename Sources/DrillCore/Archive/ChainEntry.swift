import Foundation

/// A function returning the lowercase hex SHA-256 of some bytes. DrillCore stays free of C: the live one is
/// `SHA256Hasher.hex(of:)` in DrillLive.
public typealias DigestFunction = @Sendable (Data) -> String

/// One link of the archive's hash chain: `chain/<8-digit sequence>.sha256`, in `sha256sum` format, recording the
/// digest of a report's JSON file (first line) and of its Markdown rendering (second line). See `docs/archive.md`.
public struct ChainEntry: Sendable, Equatable {
    public static let folder = "chain"

    /// 1 for the first report ever archived.
    public var sequence: Int
    public var jsonPath: String
    public var jsonSHA256: String
    public var markdownPath: String?
    public var markdownSHA256: String?

    public init(sequence: Int, jsonPath: String, jsonSHA256: String, markdownPath: String? = nil, markdownSHA256: String? = nil) {
        self.sequence = sequence
        self.jsonPath = jsonPath
        self.jsonSHA256 = jsonSHA256
        self.markdownPath = markdownPath
        self.markdownSHA256 = markdownSHA256
    }

    /// `chain/00000042.sha256`.
    public static func path(sequence: Int) -> String { String(format: "\(folder)/%08d.sha256", sequence) }

    /// The sequence number of an entry path, or nil when `path` is not a chain entry.
    public static func sequence(ofPath path: String) -> Int? {
        guard path.hasPrefix(folder + "/"), path.hasSuffix(".sha256") else { return nil }
        let digits = path.dropFirst(folder.count + 1).dropLast(".sha256".count)
        guard digits.count == 8, digits.allSatisfy(\.isASCII), let n = Int(digits), n > 0 else { return nil }
        return n
    }

    public var path: String { Self.path(sequence: sequence) }

    /// The file's text: `<hex>  <path>` lines, checkable with `sha256sum -c` from the archive's root.
    public func text() -> String {
        var s = "\(jsonSHA256)  \(jsonPath)\n"
        if let markdownPath, let markdownSHA256 { s += "\(markdownSHA256)  \(markdownPath)\n" }
        return s
    }

    /// Parses an entry file; nil when it is not in the expected format.
    public static func parse(_ data: Data, sequence: Int) -> ChainEntry? {
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true)
        guard (1...2).contains(lines.count) else { return nil }
        var pairs: [(String, String)] = []
        for line in lines {
            let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[1].hasPrefix(" "), isHexDigest(parts[0]) else { return nil }
            pairs.append((String(parts[0]), String(parts[1].dropFirst())))
        }
        guard pairs[0].1.hasSuffix(".json") else { return nil }
        return ChainEntry(sequence: sequence, jsonPath: pairs[0].1, jsonSHA256: pairs[0].0,
                          markdownPath: pairs.count > 1 ? pairs[1].1 : nil, markdownSHA256: pairs.count > 1 ? pairs[1].0 : nil)
    }

    static func isHexDigest<S: StringProtocol>(_ s: S) -> Bool {
        s.count == 64 && s.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }
}
