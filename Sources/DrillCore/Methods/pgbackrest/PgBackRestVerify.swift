import Foundation

/// What `pgbackrest verify --output=text --verbose` found (pgBackRest 2.45). It exits 0 even when it finds a bad
/// checksum, so the text is the result: a summary on standard output and, at log level info on standard error, one
/// line per damaged file (`invalid checksum '<label>/pg_data/…'`, `file missing '…'`, `invalid result <wal>: …`).
///
/// It checks every backup and the whole WAL archive of the stanza (2.45 cannot verify a single backup: its `--set` is
/// for internal use only). It does not prove that the WAL is contiguous from a backup to the end: the replay does.
public struct PgBackRestVerifyResult: Sendable, Equatable {
    public struct Counts: Sendable, Equatable {
        public var missing = 0
        public var checksumInvalid = 0
        public var sizeInvalid = 0
        public var other = 0
        public var problems: Int { missing + checksumInvalid + sizeInvalid + other }

        public init(missing: Int = 0, checksumInvalid: Int = 0, sizeInvalid: Int = 0, other: Int = 0) {
            self.missing = missing
            self.checksumInvalid = checksumInvalid
            self.sizeInvalid = sizeInvalid
            self.other = other
        }
    }

    public struct ArchiveCheck: Sendable, Equatable {
        public var id: String
        public var checked: Int
        public var valid: Int
        public var counts: Counts

        public init(id: String, checked: Int, valid: Int, counts: Counts) {
            self.id = id
            self.checked = checked
            self.valid = valid
            self.counts = counts
        }
    }

    public struct BackupCheck: Sendable, Equatable {
        public var label: String
        /// `valid`, `invalid`, or what else pgBackRest prints (`in-progress`, …).
        public var status: String
        public var checked: Int
        public var valid: Int
        public var counts: Counts
    }

    /// `ok` or `error` (missing: the output had no status line).
    public var status: String?
    public var archives: [ArchiveCheck] = []
    public var backups: [BackupCheck] = []
    /// Summary lines that are neither an archive nor a backup (`No usable backup.info file`).
    public var notes: [String] = []
    /// The damaged files pgBackRest named on standard error, as it named them (relative to the repository's backup or
    /// archive folder).
    public var damaged: [String] = []
    /// Warnings and errors pgBackRest logged.
    public var warnings: [String] = []

    public var isOK: Bool { status == "ok" }

    public func backup(_ label: String) -> BackupCheck? { backups.first { $0.label == label } }

    /// Parses standard output (the text summary) and standard error (log lines at level info) of one verify run.
    public static func parse(stdout: String, stderr: String, stanza: String) -> PgBackRestVerifyResult {
        var r = PgBackRestVerifyResult()
        var inStanza = false
        var pending: (kind: Character, index: Int)?
        for raw in stdout.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("stanza: ") {
                inStanza = String(line.dropFirst(8)) == stanza
                pending = nil
                continue
            }
            guard inStanza else { continue }
            let fields = Self.fields(line)
            if line.hasPrefix("status: ") {
                r.status = String(line.dropFirst(8))
            } else if let id = fields["archiveId"] {
                r.archives.append(ArchiveCheck(id: id, checked: Int(fields["total WAL checked"] ?? "") ?? 0,
                                               valid: Int(fields["total valid WAL"] ?? "") ?? 0, counts: Counts()))
                pending = ("a", r.archives.count - 1)
            } else if let label = fields["backup"] {
                r.backups.append(BackupCheck(label: label, status: fields["status"] ?? "unknown",
                                             checked: Int(fields["total files checked"] ?? "") ?? 0,
                                             valid: Int(fields["total valid files"] ?? "") ?? 0, counts: Counts()))
                pending = ("b", r.backups.count - 1)
            } else if let p = pending, fields.keys.contains(where: Self.countKeys.contains) {
                let c = Counts(missing: Int(fields["missing"] ?? "") ?? 0, checksumInvalid: Int(fields["checksum invalid"] ?? "") ?? 0,
                               sizeInvalid: Int(fields["size invalid"] ?? "") ?? 0, other: Int(fields["other"] ?? "") ?? 0)
                if p.kind == "a" { r.archives[p.index].counts = c } else { r.backups[p.index].counts = c }
                pending = nil
            } else {
                r.notes.append(line)
            }
        }
        for raw in stderr.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("WARN: ") || line.hasPrefix("ERROR: ") {
                r.warnings.append(line)
                continue
            }
            guard line.hasPrefix("INFO: ") else { continue }
            let message = String(line.dropFirst(6))
            if let file = Self.damagedFile(message) { r.damaged.append(file) }
        }
        return r
    }

    static let countKeys: Set<String> = ["missing", "checksum invalid", "size invalid", "other"]

    /// `a: 1, b c: 2` → ["a": "1", "b c": "2"].
    static func fields(_ line: String) -> [String: String] {
        var out: [String: String] = [:]
        for part in line.components(separatedBy: ", ") {
            guard let colon = part.range(of: ": ") else { continue }
            out[String(part[..<colon.lowerBound])] = String(part[colon.upperBound...])
        }
        return out
    }

    /// The file a verify log line names as damaged: `invalid checksum '<f>'`, `invalid size '<f>'`, `file missing
    /// '<f>'`, `invalid result <f>: …`, `invalid result UNPROCESSEDBACKUP <f>: …`.
    static func damagedFile(_ message: String) -> String? {
        for prefix in ["invalid checksum ", "invalid size ", "file missing ", "invalid file "] where message.hasPrefix(prefix) {
            return String(message.dropFirst(prefix.count)).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
        }
        if message.hasPrefix("invalid result ") {
            var rest = message.dropFirst("invalid result ".count)
            if rest.hasPrefix("UNPROCESSEDBACKUP ") { rest = rest.dropFirst("UNPROCESSEDBACKUP ".count) }
            let name = rest.prefix { $0 != ":" }
            return name.isEmpty ? nil : String(name)
        }
        return nil
    }

    // MARK: What it means for one restore

    /// What stops a restore of `backup` (with its references), or nil when verify found nothing that affects it.
    /// Damaged WAL at or after the backup's first segment (in its archive) also stops it: replay would need it.
    public func problem(for backup: PgBackRestInfo.Backup, archiveID: String?) -> String? {
        var parts: [String] = []
        let used = [backup.label] + backup.reference
        for label in used {
            guard let b = self.backup(label) else { continue }
            if b.status != "valid" {
                let files = damaged.filter { $0.hasPrefix(label + "/") }
                parts.append("backup \(label) is \(b.status) (\(Self.describe(b.counts, of: b.checked, "files")))"
                             + (files.isEmpty ? "" : ": " + Self.list(files)))
            }
        }
        if let archiveID, let a = archives.first(where: { $0.id == archiveID }), a.counts.problems > 0 {
            let wal = damaged.filter { $0.hasPrefix(archiveID + "/") }
            let needed = wal.filter { file in
                let seg = (file as NSString).lastPathComponent.prefix(24)
                return backup.walStart.map { seg.count == 24 && String(seg) >= $0 } ?? true
            }
            // Names unknown (no log lines): every damaged segment is assumed to be needed.
            if wal.isEmpty || !needed.isEmpty {
                parts.append("the WAL archive \(archiveID) has \(Self.describe(a.counts, of: a.checked, "WAL files"))"
                             + (needed.isEmpty ? "" : ": " + Self.list(needed)))
            }
        }
        if status == nil { parts.append("pgbackrest verify printed no result") }
        if backups.isEmpty && !notes.isEmpty { parts.append(notes.joined(separator: "; ")) }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }

    /// A one-line summary for the report (`ok: 3 backups, 8 WAL files checked` or the problems).
    public var summary: String {
        let files = backups.reduce(0) { $0 + $1.checked }
        let wal = archives.reduce(0) { $0 + $1.checked }
        var s = "\(status ?? "no status"): \(backups.count) backup\(backups.count == 1 ? "" : "s") (\(files) files), \(wal) WAL files checked"
        let bad = backups.filter { $0.status != "valid" }.map(\.label)
        if !bad.isEmpty { s += "; not valid: \(bad.joined(separator: ", "))" }
        let badWAL = archives.filter { $0.counts.problems > 0 }.map { "\($0.id) (\($0.counts.problems))" }
        if !badWAL.isEmpty { s += "; damaged WAL in \(badWAL.joined(separator: ", "))" }
        if !notes.isEmpty { s += "; " + notes.joined(separator: "; ") }
        return s
    }

    static func describe(_ c: Counts, of checked: Int, _ what: String) -> String {
        var kinds: [String] = []
        if c.checksumInvalid > 0 { kinds.append("\(c.checksumInvalid) with an invalid checksum") }
        if c.missing > 0 { kinds.append("\(c.missing) missing") }
        if c.sizeInvalid > 0 { kinds.append("\(c.sizeInvalid) with an invalid size") }
        if c.other > 0 { kinds.append("\(c.other) unreadable") }
        return kinds.isEmpty ? "\(checked) \(what) checked" : "of \(checked) \(what): " + kinds.joined(separator: ", ")
    }

    static func list(_ files: [String]) -> String {
        files.count <= 5 ? files.joined(separator: ", ") : files.prefix(5).joined(separator: ", ") + " and \(files.count - 5) more"
    }
}
