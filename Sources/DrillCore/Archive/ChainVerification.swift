/// The result of walking an archive's hash chain.
public struct ChainVerification: Sendable, Equatable {
    /// Chain entries found.
    public var entries: Int
    /// JSON reports found.
    public var reports: Int
    /// The digest recorded by the last chain entry: an auditor notes it and later passes it as an anchor.
    public var head: String?
    /// Problems, in chain order: the first one names the first report edited, removed, inserted or reordered.
    public var issues: [ChainIssue]

    public var intact: Bool { issues.isEmpty }

    /// One line for reports and terminals.
    public var summary: String {
        if intact {
            return "intact: \(entries) report\(entries == 1 ? "" : "s") in the chain" + (head.map { ", head \($0)" } ?? "")
        }
        return "BROKEN: \(issues[0]) (\(issues.count) problem\(issues.count == 1 ? "" : "s") in all)"
    }
}

/// One way the archive differs from what its chain recorded.
public struct ChainIssue: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A file's bytes differ from the digest recorded when it was archived.
        case edited
        /// A recorded report (or chain entry) is gone.
        case removed
        /// A report that was never appended through the chain.
        case inserted
        /// Reports that moved to another place or order than the one recorded.
        case reordered
        /// The auditor's anchor (`--expect-head`) is not in the chain: the chain was cut back or rewritten.
        case anchorMissing = "anchor_missing"
    }

    public var kind: Kind
    /// The report (or entry) concerned, relative to the archive root.
    public var path: String
    /// The chain position concerned, when known.
    public var sequence: Int?
    public var detail: String

    public init(_ kind: Kind, path: String, sequence: Int?, detail: String) {
        self.kind = kind
        self.path = path
        self.sequence = sequence
        self.detail = detail
    }

    public var description: String {
        "\(kind.rawValue): \(path)\(sequence.map { " (chain #\($0))" } ?? ""): \(detail)"
    }
}
