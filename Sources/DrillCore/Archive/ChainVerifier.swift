import Foundation

/// Walks an archive's hash chain and names every report edited, removed, inserted or reordered since it was
/// appended. The scheme is described in `docs/archive.md`.
public struct ChainVerifier: Sendable {
    public var digest: DigestFunction

    public init(digest: @escaping DigestFunction) { self.digest = digest }

    /// A file of the archive as found: its digest and, for JSON reports, the link it carries.
    struct Found: Sendable {
        var digest: String
        /// `previous_sha256`: `.some(nil)` for an explicit null or absent key; nil when the JSON cannot be read.
        var previous: String??
    }

    /// Verifies the chain. `anchor` is a head digest an auditor recorded earlier: it must still be in the chain.
    public func verify(_ storage: any ArchiveStorage, anchor: String? = nil) async throws -> ChainVerification {
        let paths = try await storage.list()
        var entries: [ChainEntry] = []
        var issues: [(position: Double, issue: ChainIssue)] = []
        let entryPaths = paths.compactMap { p in ChainEntry.sequence(ofPath: p).map { (path: p, sequence: $0) } }
        // Entries and reports are read and hashed several at a time: on a local archive hashing is the floor, and it
        // spreads over the cores; on S3 the round trips overlap.
        let parsed = try await readConcurrently(entryPaths) { e in ChainEntry.parse(try await storage.read(e.path), sequence: e.sequence) }
        for (e, entry) in zip(entryPaths, parsed) {
            if let entry {
                entries.append(entry)
            } else {
                issues.append((Double(e.sequence), ChainIssue(.edited, path: e.path, sequence: e.sequence, detail: "the chain entry is not in `<sha256>  <path>` format")))
            }
        }
        entries.sort { $0.sequence < $1.sequence }
        let reportPaths = paths.filter { ReportArchive.isReportPath($0) || ($0.hasSuffix(".md") && !$0.hasPrefix(ChainEntry.folder + "/")) }
        let digest = self.digest
        let hashed = try await readConcurrently(reportPaths) { path in
            let data = try await storage.read(path)
            return Found(digest: digest(data), previous: path.hasSuffix(".json") ? Self.previousDigest(in: data) : .some(nil))
        }
        let found = Dictionary(zip(reportPaths, hashed), uniquingKeysWith: { a, _ in a })
        let seqOfDigest = Dictionary(entries.map { ($0.jsonSHA256, $0.sequence) }, uniquingKeysWith: { a, _ in a })
        let entryOfSeq = Dictionary(entries.map { ($0.sequence, $0) }, uniquingKeysWith: { a, _ in a })
        let recordedPaths = Set(entries.flatMap { [$0.jsonPath] + ($0.markdownPath.map { [$0] } ?? []) })
        let unrecorded = found.keys.filter { !recordedPaths.contains($0) }
        var explained = Set<String>()

        var expected = 1
        var previous: String?
        var linkKnown = true
        for e in entries {
            if e.sequence > expected {
                for missing in expected..<e.sequence {
                    issues.append((Double(missing), ChainIssue(.removed, path: ChainEntry.path(sequence: missing), sequence: missing,
                        detail: "the chain entry is missing: the report it recorded was removed with it")))
                }
                linkKnown = false
            }
            defer {
                previous = e.jsonSHA256
                expected = e.sequence + 1
                linkKnown = true
            }
            let pos = Double(e.sequence)
            guard let file = found[e.jsonPath] else {
                if let moved = unrecorded.first(where: { found[$0]?.digest == e.jsonSHA256 }) {
                    explained.insert(moved)
                    issues.append((pos, ChainIssue(.reordered, path: e.jsonPath, sequence: e.sequence, detail: "the report was moved to \(moved)")))
                } else {
                    issues.append((pos, ChainIssue(.removed, path: e.jsonPath, sequence: e.sequence, detail: "the report recorded here is gone")))
                }
                continue
            }
            if file.digest != e.jsonSHA256 {
                if let other = seqOfDigest[file.digest], let o = entryOfSeq[other] {
                    issues.append((pos, ChainIssue(.reordered, path: e.jsonPath, sequence: e.sequence,
                        detail: "the file holds the report recorded as chain #\(other) (\(o.jsonPath)): reports were swapped")))
                } else {
                    issues.append((pos, ChainIssue(.edited, path: e.jsonPath, sequence: e.sequence,
                        detail: "SHA-256 is \(file.digest), the chain recorded \(e.jsonSHA256)")))
                }
                continue
            }
            if let mdPath = e.markdownPath, let mdDigest = e.markdownSHA256 {
                if let md = found[mdPath] {
                    if md.digest != mdDigest {
                        issues.append((pos, ChainIssue(.edited, path: mdPath, sequence: e.sequence, detail: "SHA-256 is \(md.digest), the chain recorded \(mdDigest)")))
                    }
                } else {
                    issues.append((pos, ChainIssue(.removed, path: mdPath, sequence: e.sequence, detail: "the Markdown report is gone")))
                }
            }
            guard linkKnown, let link = file.previous else { continue }
            if link != previous {
                issues.append((pos, linkIssue(e, link: link, seqOfDigest: seqOfDigest, entryOfSeq: entryOfSeq)))
            }
        }
        for path in unrecorded.sorted() where !explained.contains(path) {
            let link = found[path]?.previous ?? nil
            let after = link.flatMap { seqOfDigest[$0] } ?? (entries.last?.sequence ?? 0)
            issues.append((Double(after) + 0.5, ChainIssue(.inserted, path: path, sequence: nil,
                detail: "no chain entry records this file: it was not appended by drill")))
        }
        if let anchor, seqOfDigest[anchor.lowercased()] == nil {
            issues.append((Double.infinity, ChainIssue(.anchorMissing, path: ChainEntry.folder, sequence: nil,
                detail: "no chain entry records \(anchor): entries after it were removed or the chain was rewritten")))
        }
        let ordered = issues.enumerated().sorted { ($0.element.position, $0.offset) < ($1.element.position, $1.offset) }
        return ChainVerification(entries: entries.count, reports: found.keys.filter(ReportArchive.isReportPath).count,
                                 head: entries.last?.jsonSHA256, issues: ordered.map(\.element.issue))
    }

    /// Names what a broken link means: the report was appended after a different report than the one before it now.
    private func linkIssue(_ e: ChainEntry, link: String?, seqOfDigest: [String: Int], entryOfSeq: [Int: ChainEntry]) -> ChainIssue {
        guard let link else {
            return ChainIssue(.edited, path: e.jsonPath, sequence: e.sequence,
                              detail: "previous_sha256 is empty but the report is not the first: the report and its chain entry were rewritten")
        }
        if let j = seqOfDigest[link], j < e.sequence - 1, let inserted = entryOfSeq[j + 1] {
            return ChainIssue(.inserted, path: inserted.jsonPath, sequence: j + 1,
                              detail: "\(e.jsonPath) was appended right after chain #\(j): this report was inserted between them")
        }
        if let j = seqOfDigest[link], j >= e.sequence, let o = entryOfSeq[j] {
            return ChainIssue(.reordered, path: e.jsonPath, sequence: e.sequence,
                              detail: "the report was appended after \(o.jsonPath), which now comes later in the chain")
        }
        return ChainIssue(.removed, path: e.jsonPath, sequence: e.sequence,
                          detail: "the report it was appended after (SHA-256 \(link)) is no longer in the chain: removed, or edited with its entry rewritten")
    }

    /// `previous_sha256` of a JSON report, read without decoding the whole report (older schemas still verify).
    /// drill writes it as a top-level `"previous_sha256" : "<64 hex>"` (or `null`); a key in a string value would have
    /// its quotes escaped, so a single unescaped occurrence is the key. Anything else (no key, twice) is parsed as JSON.
    public static func previousDigest(in data: Data) -> String?? {
        if let quick = quickPreviousDigest(in: data) { return quick }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return .some(object["previous_sha256"] as? String)
    }

    static let previousKey = Array(#""previous_sha256""#.utf8)

    /// The fast path of `previousDigest`: nil when the file is not laid out as drill writes it.
    public static func quickPreviousDigest(in data: Data) -> String?? {
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> String?? in
            let b = raw.bindMemory(to: UInt8.self)
            let key = previousKey
            var hit: Int?
            var i = 0
            while i + key.count <= b.count {
                if b[i] == key[0], (0..<key.count).allSatisfy({ b[i + $0] == key[$0] }), i == 0 || b[i - 1] != UInt8(ascii: "\\") {
                    if hit != nil { return nil }  // twice: let the JSON parser decide
                    hit = i
                    i += key.count
                    continue
                }
                i += 1
            }
            guard var j = hit.map({ $0 + key.count }) else { return nil }  // absent (the first report): parse it
            func skipSpace() { while j < b.count, b[j] == 0x20 || b[j] == 0x0A || b[j] == 0x09 || b[j] == 0x0D { j += 1 } }
            skipSpace()
            guard j < b.count, b[j] == UInt8(ascii: ":") else { return nil }
            j += 1
            skipSpace()
            if j + 4 <= b.count, Array(b[j..<j + 4]) == Array("null".utf8) { return .some(nil) }
            guard j + 66 <= b.count, b[j] == UInt8(ascii: "\""), b[j + 65] == UInt8(ascii: "\"") else { return nil }
            let hex = String(decoding: b[(j + 1)..<(j + 65)], as: UTF8.self)
            return ChainEntry.isHexDigest(hex) ? .some(hex) : nil
        }
    }
}

extension ReportArchive {
    /// Walks the chain of this archive.
    public func verify(anchor: String? = nil) async throws -> ChainVerification {
        try await ChainVerifier(digest: digest).verify(storage, anchor: anchor)
    }
}
