import Foundation

/// One stanza as `pgbackrest info --output=json` describes it (pgBackRest 2.45). The command exits 0 even when the
/// stanza is missing or the repository cannot be read: `status.code` and each repository's status say so.
///
/// Times: pgBackRest writes `timestamp.start`/`timestamp.stop` as Unix epoch seconds (whole seconds, no zone needed).
public struct PgBackRestInfo: Sendable, Equatable {
    public struct Status: Sendable, Equatable {
        /// 0 ok; 1 missing stanza path; 2 no valid backups; 3 missing stanza data; 4 different across repos; 5 database
        /// mismatch across repos; 6 requested backup not found; 99 other (the message says what).
        public var code: Int
        public var message: String

        public init(code: Int, message: String) {
            self.code = code
            self.message = message
        }

        /// The message's first line, with the S3 error code when the message carries an HTTP answer
        /// (`[ProtocolError] HTTP request failed with 403 (FORBIDDEN): SignatureDoesNotMatch`); pgBackRest has already
        /// redacted credentials from the request it shows.
        public var brief: String {
            var first = message.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? message
            if first.hasSuffix(":") { first.removeLast() }
            if let r = message.range(of: "<Code>"), let e = message.range(of: "</Code>", range: r.upperBound..<message.endIndex) {
                first += ": " + message[r.upperBound..<e.lowerBound]
            }
            return first.count > 400 ? String(first.prefix(400)) + "…" : first
        }
    }

    public struct Repo: Sendable, Equatable {
        public var key: Int
        public var cipher: String?
        public var status: Status
    }

    public struct Backup: Sendable, Equatable {
        public var label: String
        /// `full`, `diff` or `incr`.
        public var type: String
        /// The backup this one is based on (nil for a full backup).
        public var prior: String?
        /// Every backup whose files this one uses.
        public var reference: [String]
        public var startedAt: Date
        public var stoppedAt: Date
        /// The first and last WAL segment the backup needs to be consistent.
        public var walStart: String?
        public var walStop: String?
        public var lsnStart: String?
        public var lsnStop: String?
        /// `database.id`: which PostgreSQL cluster history entry (`db`) the backup belongs to.
        public var databaseID: Int
        public var repoKey: Int
        /// The pgBackRest version that made the backup.
        public var pgBackRestVersion: String?
        /// Whether pgBackRest recorded errors (page checksum failures) while taking the backup.
        public var error: Bool?
        /// Size of the restored database, and of the backup in the repository.
        public var sizeBytes: Int64?
        public var repositorySizeBytes: Int64?
    }

    public struct Archive: Sendable, Equatable {
        /// `<PostgreSQL version>-<database id>`, the archive's folder under `archive/<stanza>/`.
        public var id: String
        public var databaseID: Int
        public var repoKey: Int
        public var min: String?
        public var max: String?
    }

    public struct Database: Sendable, Equatable {
        public var id: Int
        public var repoKey: Int
        /// The PostgreSQL major version (`15`).
        public var version: String?
    }

    public var name: String
    public var status: Status
    public var repos: [Repo]
    /// Oldest first, as pgBackRest lists them.
    public var backups: [Backup]
    public var archives: [Archive]
    public var databases: [Database]

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case notJSON(String)
        case stanzaMissing(String)

        public var description: String {
            switch self {
            case .notJSON(let why): "pgbackrest info did not print the JSON it should: \(why)"
            case .stanzaMissing(let s): "pgbackrest info printed no entry for stanza \(s)"
            }
        }
    }

    /// Parses the output of `pgbackrest --stanza=<stanza> info --output=json`.
    public static func parse(_ data: Data, stanza: String) throws -> PgBackRestInfo {
        let value: JSONValue
        do { value = try JSONValue.parse(data) } catch { throw ParseError.notJSON(String(describing: error)) }
        guard case .array(let stanzas) = value else { throw ParseError.notJSON("expected an array of stanzas") }
        for case .object(let s) in stanzas where s["name"]?.string == stanza {
            return PgBackRestInfo(
                name: stanza,
                status: status(s["status"]),
                repos: (s["repo"]?.array ?? []).compactMap { r in
                    guard let key = r["key"]?.int else { return nil }
                    return Repo(key: key, cipher: r["cipher"]?.string, status: status(r["status"]))
                },
                backups: (s["backup"]?.array ?? []).compactMap(backup),
                archives: (s["archive"]?.array ?? []).compactMap { a in
                    guard let id = a["id"]?.string, let db = a["database"]?["id"]?.int else { return nil }
                    return Archive(id: id, databaseID: db, repoKey: a["database"]?["repo-key"]?.int ?? 1,
                                   min: a["min"]?.string, max: a["max"]?.string)
                },
                databases: (s["db"]?.array ?? []).compactMap { d in
                    guard let id = d["id"]?.int else { return nil }
                    return Database(id: id, repoKey: d["repo-key"]?.int ?? 1, version: d["version"]?.string)
                })
        }
        throw ParseError.stanzaMissing(stanza)
    }

    private static func status(_ v: JSONValue?) -> Status {
        Status(code: v?["code"]?.int ?? 99, message: v?["message"]?.string ?? "no status")
    }

    private static func backup(_ b: JSONValue) -> Backup? {
        guard let label = b["label"]?.string, let type = b["type"]?.string,
              let start = b["timestamp"]?["start"]?.number, let stop = b["timestamp"]?["stop"]?.number else { return nil }
        return Backup(
            label: label, type: type, prior: b["prior"]?.string, reference: (b["reference"]?.array ?? []).compactMap(\.string),
            startedAt: Date(timeIntervalSince1970: start), stoppedAt: Date(timeIntervalSince1970: stop),
            walStart: b["archive"]?["start"]?.string, walStop: b["archive"]?["stop"]?.string,
            lsnStart: b["lsn"]?["start"]?.string, lsnStop: b["lsn"]?["stop"]?.string,
            databaseID: b["database"]?["id"]?.int ?? 1, repoKey: b["database"]?["repo-key"]?.int ?? 1,
            pgBackRestVersion: b["backrest"]?["version"]?.string, error: b["error"]?.bool,
            sizeBytes: b["info"]?["size"]?.int64, repositorySizeBytes: b["info"]?["repository"]?["size"]?.int64)
    }

    // MARK: Reading it

    /// The problem pgBackRest reports for repository `repo` (or, when it does not list that repository, for the
    /// stanza); nil when it is ok.
    public func problem(repo: Int) -> Status? {
        if let r = repos.first(where: { $0.key == repo }) { return r.status.code == 0 ? nil : r.status }
        return status.code == 0 ? nil : status
    }

    /// Backups in repository `repo`, oldest stop time first.
    public func backups(repo: Int) -> [Backup] {
        backups.filter { $0.repoKey == repo }.sorted { ($0.stoppedAt, $0.label) < ($1.stoppedAt, $1.label) }
    }

    /// The WAL archive the backup's cluster archives into.
    public func archive(for backup: Backup) -> Archive? {
        archives.first { $0.databaseID == backup.databaseID && $0.repoKey == backup.repoKey }
    }

    public func database(for backup: Backup) -> Database? {
        databases.first { $0.id == backup.databaseID && $0.repoKey == backup.repoKey }
    }
}

extension PgBackRestInfo.Backup {
    /// When recovery from this backup can stop at the earliest. pgBackRest's stop time has whole seconds and is taken
    /// after the backup's end record was written: a target at or after the next second is after the backup's end.
    public var endsBy: Date { stoppedAt.addingTimeInterval(1) }
}

// MARK: - JSONValue access

fileprivate extension JSONValue {
    subscript(_ key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    var string: String? { if case .string(let s) = self { s } else { nil } }
    var number: Double? { if case .number(let n) = self { n } else { nil } }
    var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    var int: Int? { number.flatMap { $0 == $0.rounded() && abs($0) < 1e15 ? Int($0) : nil } }
    var int64: Int64? { number.flatMap { $0 == $0.rounded() && abs($0) < 9e18 ? Int64($0) : nil } }
}
