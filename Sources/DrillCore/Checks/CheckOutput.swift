/// How much of a check's result drill reads, keeps and shows. A check is a smoke test: it needs its first value
/// and, for `rows`, a bounded count, never the whole result (a `SELECT` of 10 million rows, a 100 MB value).
public enum CheckOutput {
    /// The most of an observed value stored in a report (`observed`), cut at a UTF-8 character boundary.
    public static let storedBytes = 1024
    /// The largest value a check compares (`equals`, `min`/`max`, `matches`, `within`); a larger one fails those
    /// expectations with a reason, and still counts for `rows`.
    public static let evaluatedBytes = 1 << 20
    /// The most of an error message stored in a report.
    public static let errorBytes = 1024
    /// The most of a value shown in a check's progress line.
    public static let lineBytes = 200

    /// How many rows a check counts: enough to decide `rows.min` and `rows.max` (at least the first row). The
    /// executor reads one more, to tell whether the result had more than that.
    public static func rowsToCount(_ e: Expectation) -> Int { max(1, e.rowsMin ?? 0, e.rowsMax ?? 0) }

    /// The longest prefix of `text` of at most `maxBytes` UTF-8 bytes that ends on a character boundary.
    public static func prefix(_ text: String, maxBytes: Int) -> String {
        let bytes = Array(text.utf8.prefix(maxBytes + 1))
        guard bytes.count > maxBytes else { return text }
        var end = maxBytes
        while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }  // bytes[end] continues a character: cut before it
        return String(decoding: bytes[0..<end], as: UTF8.self)
    }

    /// One line for a terminal or a log: newlines and tabs escaped, at most `maxBytes` (then `…`).
    public static func oneLine(_ text: String, maxBytes: Int = lineBytes) -> String {
        let flat = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\r", with: "\\r")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t")
        let cut = prefix(flat, maxBytes: maxBytes)
        return cut.utf8.count < flat.utf8.count ? cut + "…" : cut
    }

    /// An error message cut at `errorBytes`, saying how long it was.
    public static func boundedError(_ text: String) -> String {
        guard text.utf8.count > errorBytes else { return text }
        return prefix(text, maxBytes: errorBytes) + "… (\(text.utf8.count) bytes in all)"
    }
}

/// The first column of a check's first row, as much of it as drill keeps.
public struct ObservedValue: Sendable, Equatable {
    /// NULL in SQL.
    public var isNull: Bool
    /// The whole value, when it is at most `CheckOutput.evaluatedBytes` (what expectations compare); nil for NULL or a
    /// larger value.
    public var text: String?
    /// The value's first `CheckOutput.storedBytes` at most (what the report stores).
    public var head: String
    /// The value's length in bytes (0 for NULL).
    public var byteCount: Int
    /// SHA-256 (hex) of the value's bytes, when the executor computed it (the live one does).
    public var sha256: String?

    public static let null = ObservedValue(isNull: true, text: nil, head: "", byteCount: 0, sha256: nil)

    /// A value known whole.
    public init(_ text: String, sha256: String? = nil) {
        let bytes = text.utf8.count
        self.init(isNull: false, text: bytes <= CheckOutput.evaluatedBytes ? text : nil,
                  head: CheckOutput.prefix(text, maxBytes: CheckOutput.storedBytes), byteCount: bytes, sha256: sha256)
    }

    /// A value of which only the head was kept (a large one).
    public init(isNull: Bool, text: String?, head: String, byteCount: Int, sha256: String?) {
        self.isNull = isNull
        self.text = text
        self.head = head
        self.byteCount = byteCount
        self.sha256 = sha256
    }

    /// Whether the report's `observed` is only the head.
    public var isTruncated: Bool { !isNull && head.utf8.count < byteCount }
}
