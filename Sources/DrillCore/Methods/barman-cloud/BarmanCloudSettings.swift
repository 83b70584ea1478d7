import Foundation

/// A `barman-cloud` drill: backups that `barman-cloud-backup` wrote into an S3 bucket (`location`, `server`), with the
/// WAL that `barman-cloud-wal-archive` archived beside them. Credentials follow the AWS conventions (environment or
/// `~/.aws/credentials`), never the drill file.
public struct BarmanCloudSettings: MethodSettings, Equatable {
    /// `s3://bucket/prefix` as given to the barman-cloud tools (their `destination_url` / `source_url`), without a
    /// trailing slash.
    public var location: String
    /// The server name given to the barman-cloud tools: objects live under `<location>/<server>/`.
    public var server: String
    /// An S3-compatible endpoint (`--endpoint-url`); nil: `AWS_ENDPOINT_URL`, else AWS.
    public var endpoint: String?
    public var region: String?
    /// How drill delivers the bucket's WAL to replay (`wal.connections`, `wal.window_mib`).
    public var wal: WALTuning

    public init(location: String, server: String, endpoint: String? = nil, region: String? = nil, wal: WALTuning = .default) {
        self.location = BarmanCloudSettings.normalised(location)
        self.server = server
        self.endpoint = endpoint
        self.region = region
        self.wal = wal
    }

    public var kind: MethodKind { .barmanCloud }
    public var source: String { "\(location) server \(server)" }
    public var supportsServerTarget: Bool { false }
    public func resolvingPaths(_ resolve: (String) -> String) -> any MethodSettings { self }

    /// The bucket (the host part of `location`).
    public var bucket: String {
        let rest = location.dropFirst("s3://".count)
        return String(rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// `s3://bucket/prefix/server/`: everything barman-cloud keeps for the server.
    public var serverPrefix: String { "\(location)/\(server)/" }
    /// `s3://bucket/prefix/server/wals/`: the WAL archive (history files at the top, segments in one folder per
    /// timeline and 4 GiB of WAL).
    public var walPrefix: String { serverPrefix + "wals/" }
    /// `s3://bucket/prefix/server/base/<id>/`: one backup's objects (`backup.info`, `data.tar[.gz|.bz2|…]`).
    public func backupPrefix(_ id: String) -> String { serverPrefix + "base/\(id)/" }

    /// Without trailing slashes: the tools join `<location>/<server>` themselves.
    static func normalised(_ location: String) -> String {
        var l = location
        while l.hasSuffix("/") && l.count > "s3://".count { l.removeLast() }
        return l
    }
}

/// Parses a `barman-cloud` drill's `backup` object (`kind`, `location`, `server`, `endpoint`, `region`) and its
/// optional `wal` object (`connections`, `window_mib`).
public struct BarmanCloudParser: MethodParser {
    public init() {}
    public var kind: MethodKind { .barmanCloud }
    public var keys: Set<String> { ["backup", "wal"] }

    public func parse(_ top: [String: JSONValue], reader r: ConfigReader) -> (any MethodSettings)? {
        guard let b = BarmanKeys.object(top["backup"], allowed: ["kind", "location", "server", "endpoint", "region"],
                                        kind: kind, reader: r) else { return nil }
        var location = r.string(b["location"], at: "backup.location", required: true)
        if let l = location {
            let bucket = l.hasPrefix("s3://") ? l.dropFirst(5).split(separator: "/", omittingEmptySubsequences: false).first.map(String.init) ?? "" : ""
            if !l.hasPrefix("s3://") {
                r.fail("backup.location", "a barman-cloud location is an S3 URL, s3://bucket/prefix (as given to barman-cloud-backup), found \"\(l)\"")
                location = nil
            } else if bucket.isEmpty || l.contains("?") || l.contains("#") || l.contains("@") {
                r.fail("backup.location", "expected s3://bucket/prefix, found \"\(l)\"")
                location = nil
            }
        }
        let server = BarmanKeys.serverName(b["server"], reader: r)
        let endpoint = r.string(b["endpoint"], at: "backup.endpoint")
        if let endpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) || endpoint.contains("@") {
            r.fail("backup.endpoint", "must be an http:// or https:// URL without credentials")
        }
        let region = r.string(b["region"], at: "backup.region")
        let wal = WALTuning.parse(top["wal"], kind: kind, reader: r)
        guard let location, let server else { return nil }
        return BarmanCloudSettings(location: location, server: server, endpoint: endpoint, region: region, wal: wal)
    }
}

extension MethodKind {
    public static let barmanCloud: MethodKind = "barman-cloud"
}
