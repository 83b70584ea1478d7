import Foundation

/// Where reports are kept: a local folder or an S3 prefix. Append-only by convention: the archive never rewrites or
/// deletes a report, except the files of its own append that failed before its chain entry was written (`remove`).
public protocol ArchiveStorage: Sendable {
    /// Human-readable location, for messages (no credentials).
    var location: String { get }
    /// Where a file of the archive is, for messages: `/var/lib/drill/archive/2026/11/x.md`, `s3://b/p/2026/11/x.md`.
    func displayPath(_ path: String) -> String
    /// Relative paths (`2026/11/shop-20261128T073000Z.json`) of every file in the archive.
    func list() async throws -> [String]
    /// The files under one folder of the archive (`chain`, `2026/11`), as paths relative to the archive, sorted.
    /// A default filters `list()`; a storage that can list one folder cheaply does so.
    func list(under folder: String) async throws -> [String]
    func read(_ path: String) async throws -> Data
    /// Writes a new file atomically and durably (a local folder: temp file, fsync, link, fsync of the folder; S3: a
    /// conditional PUT). Fails if it exists: nothing is ever overwritten.
    func create(_ path: String, data: Data) async throws
    /// Removes a file this writer created in an append that then failed (called under the lock, only by
    /// `ReportArchive.append`); a file already gone is not an error.
    func remove(_ path: String) async throws
    /// Runs `body` holding the archive's writer lock, so concurrent runs append one after another.
    func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T
}

extension ArchiveStorage {
    public func list(under folder: String) async throws -> [String] {
        try await list().filter { $0.hasPrefix(folder + "/") }
    }

    public func displayPath(_ path: String) -> String { (location as NSString).appendingPathComponent(path) }
}

/// The audit archive: reports laid out as `<YYYY>/<MM>/<drill>-<UTC timestamp>.json` and `.md`, linked into a hash
/// chain by `chain/<sequence>.sha256` entries and each report's `previous_sha256` (see `docs/archive.md`).
public struct ReportArchive: Sendable {
    public var storage: any ArchiveStorage
    /// SHA-256 as lowercase hex (the live one is `SHA256Hasher.hex(of:)`).
    public var digest: DigestFunction

    public init(storage: any ArchiveStorage, digest: @escaping DigestFunction) {
        self.storage = storage
        self.digest = digest
    }

    /// The path stem of a report: `2026/11/shop-20261128T073000Z`.
    public static func stem(for report: DrillReport) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month], from: report.startedAt)
        return String(format: "%04d/%02d/", c.year!, c.month!) + "\(report.drill)-\(RFC3339.compact(report.startedAt))"
    }

    /// Appends a report to the chain: under the archive's lock, sets `previousSHA256` to the digest the last chain
    /// entry records, writes the JSON and Markdown reports, then the next chain entry. Every file is created
    /// exclusively, so even without the lock two writers could not both take the same sequence number.
    /// When a write fails (a full disk), the files this append had already created are removed, still under the lock,
    /// and the error says so: the archive is left as it was, and `verify` shows only real tampering.
    /// Returns the report as written (with `previousSHA256` set) and its paths.
    @discardableResult
    public func append(_ report: DrillReport) async throws -> ArchivedReport {
        try await storage.withLock {
            // Only the chain and the report's month folder are listed: an append costs the same in a year-old archive
            // as in a new one.
            let monthFolder = String(Self.stem(for: report).split(separator: "/").prefix(2).joined(separator: "/"))
            let names = Set(try await storage.list(under: monthFolder))
            let last = try await storage.list(under: ChainEntry.folder).compactMap(ChainEntry.sequence(ofPath:)).max()
            var linked = report
            linked.previousSHA256 = nil
            if let last {
                let entryData = try await storage.read(ChainEntry.path(sequence: last))
                guard let entry = ChainEntry.parse(entryData, sequence: last) else {
                    throw ArchiveError("the last chain entry \(ChainEntry.path(sequence: last)) in \(storage.location) is unreadable; run `drill archive verify`")
                }
                linked.previousSHA256 = entry.jsonSHA256
            }
            var stem = Self.stem(for: report)
            var n = 2
            while names.contains(stem + ".json") || names.contains(stem + ".md") {
                stem = Self.stem(for: report) + "-\(n)"
                n += 1
            }
            let json = try linked.jsonData()
            let markdown = Data(MarkdownReport.render(linked).utf8)
            let entry = ChainEntry(sequence: (last ?? 0) + 1, jsonPath: stem + ".json", jsonSHA256: digest(json),
                                   markdownPath: stem + ".md", markdownSHA256: digest(markdown))
            let entryData = Data(entry.text().utf8)
            var created: [String] = []
            var writing = stem + ".json"
            do {
                try await storage.create(writing, data: json)
                created.append(writing)
                writing = stem + ".md"
                try await storage.create(writing, data: markdown)
                created.append(writing)
                writing = entry.path
                try await storage.create(writing, data: entryData)
            } catch {
                // An entry whose write reported an error may still have landed (an S3 answer lost on the way back):
                // then the append did happen, and removing its reports would break the chain.
                if writing == entry.path, let landed = try? await storage.read(entry.path), landed == entryData {
                    return ArchivedReport(report: linked, json: stem + ".json", markdown: stem + ".md", entry: entry)
                }
                throw await undo(created, after: error, writing: writing)
            }
            return ArchivedReport(report: linked, json: stem + ".json", markdown: stem + ".md", entry: entry)
        }
    }

    /// Removes the files a failed append created, newest first, and returns the error to throw: what failed, and
    /// what was removed (or, if a removal failed too, what `verify` will now report).
    private func undo(_ created: [String], after error: any Error, writing failed: String) async -> ArchiveError {
        var removed: [String] = []
        var left: [String] = []
        for path in created.reversed() {
            do {
                try await storage.remove(path)
                removed.append(path)
            } catch {
                left.append("\(path) (\(error))")
            }
        }
        var message = "cannot write \(storage.displayPath(failed)): \(error)"
        if !removed.isEmpty { message += "; removed what this run had written (\(removed.reversed().joined(separator: ", "))), so the archive is as it was" }
        if !left.isEmpty { message += "; could not remove \(left.joined(separator: ", ")): `drill archive verify` will report it" }
        return ArchiveError(message)
    }

    /// Every JSON report in the archive, oldest first. Files that do not decode are returned in `unreadable`.
    public func reports() async throws -> (reports: [(path: String, report: DrillReport)], unreadable: [String]) {
        try await reports(in: nil)
    }
}

extension ReportArchive {
    /// Whether an archive path is a JSON report (not a chain entry or another file).
    public static func isReportPath(_ path: String) -> Bool {
        path.hasSuffix(".json") && !path.hasPrefix(ChainEntry.folder + "/")
    }
}

/// A report as `ReportArchive.append` wrote it.
public struct ArchivedReport: Sendable {
    public var report: DrillReport
    public var json: String
    public var markdown: String
    public var entry: ChainEntry
}

/// An archive that cannot be read or written as expected (as opposed to tampering, which `verify` reports as issues).
public struct ArchiveError: Error, Sendable, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
