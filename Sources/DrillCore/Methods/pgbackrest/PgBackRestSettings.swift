import Foundation

/// A `pgbackrest` drill: a backup in a pgBackRest repository (`stanza`, `repo`), restored with `pgbackrest restore` into
/// a private scratch cluster and recovered from the repository's WAL archive.
///
/// The repository's settings come from `config` (a pgbackrest.conf as production has it) and/or `options` (pgBackRest
/// options by name, handed to pgBackRest as `PGBACKREST_*` environment, never argv). Secrets are never in the drill
/// file: the parser refuses them, and they come from the config file or drill's environment.
public struct PgBackRestSettings: MethodSettings, Equatable {
    public var stanza: String
    /// The pgbackrest.conf to read; nil: pgBackRest runs with `--no-config`.
    public var config: String?
    /// pgBackRest options by name (`repo1-path`, `repo1-s3-bucket`, …), none of them secret.
    public var options: [String: String]
    /// The repository to restore from (`--repo`).
    public var repo: Int
    /// A backup label to restore (default: the newest backup the recovery target can use).
    public var set: String?
    /// How drill delivers the repository's WAL to replay (`wal.connections`, `wal.window_mib`).
    public var wal: WALTuning

    public init(stanza: String, config: String? = nil, options: [String: String] = [:], repo: Int = 1, set: String? = nil,
                wal: WALTuning = .default) {
        self.stanza = stanza
        self.config = config
        self.options = options
        self.repo = repo
        self.set = set
        self.wal = wal
    }

    public var kind: MethodKind { .pgbackrest }
    public var source: String { "pgbackrest stanza \(stanza), repo \(repo)" + (config.map { " (\($0))" } ?? "") }
    public var supportsServerTarget: Bool { false }

    public func resolvingPaths(_ resolve: (String) -> String) -> any MethodSettings {
        var s = self
        s.config = config.map(resolve)
        return s
    }
}

/// Parses a `pgbackrest` drill's `backup` object (`kind`, `stanza` (required), `config`, `options`, `repo`, `set`) and
/// its optional `wal` object (`connections`, `window_mib`).
public struct PgBackRestParser: MethodParser {
    public init() {}
    public var kind: MethodKind { .pgbackrest }
    public var keys: Set<String> { ["backup", "wal"] }

    public func parse(_ top: [String: JSONValue], reader r: ConfigReader) -> (any MethodSettings)? {
        guard let b = r.object(top["backup"], at: "backup", allowed: ["kind", "stanza", "config", "options", "repo", "set"]) else {
            if top["backup"] == nil { r.fail("backup", "missing required key") }
            return nil
        }
        let stanza = r.string(b["stanza"], at: "backup.stanza", required: true)
        if let stanza, !PgBackRestOptions.isValidStanza(stanza) {
            r.fail("backup.stanza", "\"\(stanza)\" is not a pgBackRest stanza name (letters, digits, '-', '_' and '.')")
        }
        let config = r.string(b["config"], at: "backup.config")
        if let config, config.isEmpty { r.fail("backup.config", "must not be empty") }
        let repo = r.integer(b["repo"], at: "backup.repo", range: 1...256) ?? 1
        let set = r.string(b["set"], at: "backup.set")
        if let set, !PgBackRestLabel.isValid(set) {
            r.fail("backup.set", "\"\(set)\" is not a pgBackRest backup label (e.g. 20261201-210309F or 20261201-210309F_20261201-210340I)")
        }
        var options: [String: String] = [:]
        if let o = r.object(b["options"], at: "backup.options", allowed: nil) {
            for (name, value) in o.sorted(by: { $0.key < $1.key }) {
                let path = "backup.options.\(name)"
                if let problem = PgBackRestOptions.problem(with: name) {
                    r.fail(path, problem)
                    continue
                }
                guard case .string(let v) = value else {
                    r.fail(path, "expected a string (pgBackRest options are given as text, e.g. \"443\" or \"y\"), found \(value.typeName)")
                    continue
                }
                options[name] = v
            }
        }
        let wal = WALTuning.parse(top["wal"], kind: kind, reader: r)
        guard let stanza else { return nil }
        return PgBackRestSettings(stanza: stanza, config: config, options: options, repo: repo, set: set, wal: wal)
    }
}

/// Which pgBackRest options a drill file may give, and how they reach pgBackRest.
public enum PgBackRestOptions {
    /// Options pgBackRest 2.45 treats as secret (it refuses them on the command line, error 031), by their name without
    /// the repository index, plus the secret options of later versions.
    public static let secretSuffixes: Set<String> = [
        "azure-account", "azure-endpoint", "azure-key", "cipher-pass", "gcs-key", "s3-key", "s3-key-secret", "s3-token",
        "sftp-private-key-passphrase",
    ]

    /// Options drill sets itself, or that would change what the drill does (where it restores, whether the copy
    /// archives, which backup and target, where locks and logs go).
    public static let controlled: Set<String> = [
        "stanza", "config", "config-path", "config-include-path", "lock-path", "log-path", "log-level-console",
        "log-level-file", "log-level-stderr", "log-subprocess", "log-timestamp", "archive-mode", "archive-async",
        "spool-path", "archive-get-queue-max", "type", "target", "target-action", "target-exclusive", "target-timeline",
        "set", "repo", "delta", "force", "recovery-option", "db-include", "db-exclude", "link-all", "link-map",
        "tablespace-map", "tablespace-map-all", "exec-id", "cmd", "output", "neutral-umask", "dry-run",
    ]

    /// General options a drill file may tune (besides any `repoN-*` option that is not secret).
    public static let tunable: Set<String> = [
        "process-max", "buffer-size", "io-timeout", "protocol-timeout", "db-timeout", "compress-level-network",
        "sck-keep-alive", "tcp-keep-alive-count", "tcp-keep-alive-idle", "tcp-keep-alive-interval", "cmd-ssh",
    ]

    /// Why `name` may not be given in `backup.options`, or nil when it may.
    public static func problem(with name: String) -> String? {
        guard isOptionName(name) else {
            return "not a pgBackRest option name (lower-case words joined by '-', e.g. repo1-path)"
        }
        if isSecret(name) {
            return "\(name) is a secret: it is never written in a drill file. Put it in the pgbackrest.conf named by backup.config, or in drill's environment as \(environmentName(name))"
        }
        if controlled.contains(name) || name.hasPrefix("pg") && isIndexed(name, prefix: "pg") {
            return "drill sets \(name) itself (the restore goes into a private scratch cluster with its own lock path, no log files and archive_mode off); use backup.stanza, backup.config, backup.repo and backup.set for what a drill file chooses"
        }
        if isIndexed(name, prefix: "repo") || tunable.contains(name) { return nil }
        return "not an option drill passes to pgBackRest: give repository options (repo1-path, repo1-type, repo1-s3-bucket, …) or one of \(tunable.sorted().joined(separator: ", "))"
    }

    /// Whether pgBackRest treats the option as secret (`repo1-s3-key-secret`, `repo2-cipher-pass`, …).
    public static func isSecret(_ name: String) -> Bool {
        guard let suffix = indexedSuffix(name, prefix: "repo") ?? (name.hasPrefix("repo-") ? String(name.dropFirst(5)) : nil) else {
            return false
        }
        return secretSuffixes.contains(suffix)
    }

    /// `repo1-s3-key-secret` → `PGBACKREST_REPO1_S3_KEY_SECRET`.
    public static func environmentName(_ option: String) -> String {
        "PGBACKREST_" + option.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// Lower-case words of letters and digits joined by single hyphens.
    static func isOptionName(_ name: String) -> Bool {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        return !name.isEmpty && parts.allSatisfy { p in !p.isEmpty && p.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) } }
    }

    /// `repo12-path` with prefix `repo` → `path`.
    static func indexedSuffix(_ name: String, prefix: String) -> String? {
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count)
        let digits = rest.prefix { ("0"..."9").contains($0) }
        guard !digits.isEmpty, rest.dropFirst(digits.count).hasPrefix("-") else { return nil }
        return String(rest.dropFirst(digits.count + 1))
    }

    static func isIndexed(_ name: String, prefix: String) -> Bool { indexedSuffix(name, prefix: prefix) != nil }

    /// pgBackRest stanza names: letters, digits, `-`, `_`, `.`.
    public static func isValidStanza(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 64 && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }
}

/// pgBackRest backup labels: `YYYYMMDD-HHMMSSF` for a full backup, `<full>_YYYYMMDD-HHMMSS(D|I)` for a differential or
/// incremental one.
public enum PgBackRestLabel {
    public static func isValid(_ label: String) -> Bool {
        let parts = label.split(separator: "_", omittingEmptySubsequences: false)
        func stamp(_ s: Substring, _ kinds: String) -> Bool {
            let chars = Array(s)
            guard chars.count == 16, chars[8] == "-", let last = chars.last, kinds.contains(last) else { return false }
            return chars[0..<8].allSatisfy(\.isASCIIDigit) && chars[9..<15].allSatisfy(\.isASCIIDigit)
        }
        switch parts.count {
        case 1: return stamp(parts[0], "F")
        case 2: return stamp(parts[0], "F") && stamp(parts[1], "DI")
        default: return false
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}

extension MethodKind {
    public static let pgbackrest: MethodKind = "pgbackrest"
}
