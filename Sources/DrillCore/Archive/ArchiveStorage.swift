import Foundation

/// Where reports are kept: a local folder (or, later, an S3 prefix). Append-only by convention: the archive never
/// rewrites or deletes a report.
public protocol ArchiveStorage: Sendable {
    /// Human-readable location, for messages (no credentials).
    var location: String { get }
    /// Relative paths (`2026/11/shop-20261128T073000Z.json`) of every file in the archive.
    func list() async throws -> [String]
    func read(_ path: String) async throws -> Data
    /// Writes a new file atomically and durably (temp file, fsync, rename, fsync of the folder). Fails if it exists.
    func create(_ path: String, data: Data) async throws
    /// Runs `body` holding the archive's writer lock, so concurrent runs append one after another.
    func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T
}

/// The audit archive: reports laid out as `<YYYY>/<MM>/<drill>-<UTC timestamp>.json` and `.md`.
public struct ReportArchive: Sendable {
    public var storage: any ArchiveStorage

    public init(storage: any ArchiveStorage) { self.storage = storage }

    /// The path stem of a report: `2026/11/shop-20261128T073000Z`.
    public static func stem(for report: DrillReport) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month], from: report.startedAt)
        return String(format: "%04d/%02d/", c.year!, c.month!) + "\(report.drill)-\(RFC3339.compact(report.startedAt))"
    }

    /// Writes the JSON and Markdown reports; returns their relative paths.
    @discardableResult
    public func append(_ report: DrillReport) async throws -> (json: String, markdown: String) {
        try await storage.withLock {
            var stem = Self.stem(for: report)
            let existing = Set(try await storage.list())
            var n = 2
            while existing.contains(stem + ".json") {
                stem = Self.stem(for: report) + "-\(n)"
                n += 1
            }
            try await storage.create(stem + ".json", data: try report.jsonData())
            try await storage.create(stem + ".md", data: Data(MarkdownReport.render(report).utf8))
            return (stem + ".json", stem + ".md")
        }
    }

    /// Every JSON report in the archive, oldest first. Files that do not decode are returned in `unreadable`.
    public func reports() async throws -> (reports: [(path: String, report: DrillReport)], unreadable: [String]) {
        var out: [(String, DrillReport)] = []
        var bad: [String] = []
        for path in try await storage.list().filter({ $0.hasSuffix(".json") }).sorted() {
            do {
                out.append((path, try DrillReport.decoder().decode(DrillReport.self, from: try await storage.read(path))))
            } catch {
                bad.append(path)
            }
        }
        out.sort { $0.1.startedAt < $1.1.startedAt }
        return (out.map { (path: $0.0, report: $0.1) }, bad)
    }

    /// The newest report of a drill that restored (compliant or non-compliant), for `drill plan`'s last measured RTO.
    public func lastRestored(drill: String) async throws -> DrillReport? {
        try await reports().reports.last { $0.report.drill == drill && $0.report.restored }?.report
    }
}
