import Foundation

/// A `barman` drill: a backup in a Barman server's own catalogue on this host (`barman -f json list-backups`),
/// restored with `barman recover` into a private scratch cluster and recovered from the WAL Barman copies.
public struct BarmanSettings: MethodSettings, Equatable {
    /// The Barman server name (a section of the Barman configuration).
    public var server: String
    /// The Barman configuration file (`barman -c`); nil: Barman's own search (`~/.barman.conf`, `/etc/barman.conf`,
    /// `/etc/barman/barman.conf`).
    public var config: String?
    /// How drill delivers the catalogue's WAL to replay (`wal.connections`, `wal.window_mib`).
    public var wal: WALTuning

    public init(server: String, config: String? = nil, wal: WALTuning = .default) {
        self.server = server
        self.config = config
        self.wal = wal
    }

    public var kind: MethodKind { .barman }
    public var source: String { "barman server \(server)" + (config.map { " (\($0))" } ?? "") }
    public var supportsServerTarget: Bool { false }

    public func resolvingPaths(_ resolve: (String) -> String) -> any MethodSettings {
        var s = self
        s.config = config.map(resolve)
        return s
    }
}

/// Parses a `barman` drill's `backup` object (`kind`, `server`, `config`) and its optional `wal` object
/// (`connections`, `window_mib`).
public struct BarmanParser: MethodParser {
    public init() {}
    public var kind: MethodKind { .barman }
    public var keys: Set<String> { ["backup", "wal"] }

    public func parse(_ top: [String: JSONValue], reader r: ConfigReader) -> (any MethodSettings)? {
        guard let b = BarmanKeys.object(top["backup"], allowed: ["kind", "server", "config"], kind: kind, reader: r) else { return nil }
        let server = BarmanKeys.serverName(b["server"], reader: r)
        let config = r.string(b["config"], at: "backup.config")
        if let config, config.isEmpty { r.fail("backup.config", "must not be empty (leave it out for Barman's default configuration)") }
        let wal = WALTuning.parse(top["wal"], kind: kind, reader: r)
        guard let server else { return nil }
        return BarmanSettings(server: server, config: config, wal: wal)
    }
}

/// Key checks shared by the `barman` and `barman-cloud` parsers.
enum BarmanKeys {
    /// Words that mark a key as a credential: refused in a drill file, whatever its exact name.
    static let secretWords = ["secret", "password", "passwd", "token", "access_key", "accesskey", "credential", "private_key"]

    static func isSecret(_ key: String) -> Bool {
        let k = key.lowercased().replacingOccurrences(of: "-", with: "_")
        return secretWords.contains { k.contains($0) }
    }

    /// The `backup` object, with a credential key refused by name (pointing at the AWS conventions) and any other
    /// key outside `allowed` reported as unknown.
    static func object(_ value: JSONValue?, allowed: Set<String>, kind: MethodKind, reader r: ConfigReader) -> [String: JSONValue]? {
        guard let value else {
            r.fail("backup", "missing required key")
            return nil
        }
        guard let members = r.object(value, at: "backup", allowed: nil) else { return nil }
        for key in members.keys.sorted() where !allowed.contains(key) {
            if isSecret(key) {
                r.fail("backup.\(key)", "credentials never go in a drill file: a \(kind) drill reads them as the tools do (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, or ~/.aws/credentials with AWS_PROFILE; a Barman server's own configuration and ~/.pgpass)")
            } else {
                r.fail("backup.\(key)", "unknown key (allowed here: \(allowed.sorted().joined(separator: ", ")))")
            }
        }
        return members
    }

    /// `backup.server`: required, and a name Barman accepts (letters, digits, `-`, `_`, `.`).
    static func serverName(_ value: JSONValue?, reader r: ConfigReader) -> String? {
        guard let s = r.string(value, at: "backup.server", required: true) else { return nil }
        let ok = !s.isEmpty && s.count <= 100 && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
            && !s.hasPrefix("-") && s != "all"
        if !ok {
            r.fail("backup.server", "expected a Barman server name (letters, digits, '-', '_', '.'; not \"all\"), found \"\(s)\"")
            return nil
        }
        return s
    }
}

extension MethodKind {
    public static let barman: MethodKind = "barman"
}
