import Foundation

extension BackupConfig {
    /// Parses the `backup` object of a drill on backup files (`dump`, `basebackup`). `kind` is accepted (the method
    /// was chosen by it).
    static func parse(_ v: JSONValue?, reader r: ConfigReader) -> BackupConfig? {
        if v == nil {
            r.fail("backup", "missing required key")
            return nil
        }
        guard let b = r.object(v, at: "backup", allowed: ["kind", "location", "pattern", "format", "endpoint", "region", "verify", "settle", "decrypt",
                                                          "connections", "chunk_mib"])
        else { return nil }
        let location = r.string(b["location"], at: "backup.location", required: true)
        if let location, location.isEmpty { r.fail("backup.location", "must not be empty") }
        if let location, let scheme = URLScheme.of(location), !URLScheme.known.contains(scheme) {
            r.fail("backup.location", "unsupported scheme \"\(scheme)\" (supported: \(URLScheme.known.joined(separator: ", ")))")
        }
        let pattern = r.string(b["pattern"], at: "backup.pattern")
        let format = r.oneOf(b["format"], at: "backup.format", BackupFormatChoice.self) ?? .auto
        let endpoint = r.string(b["endpoint"], at: "backup.endpoint")
        if let endpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            r.fail("backup.endpoint", "must be an http:// or https:// URL")
        }
        let region = r.string(b["region"], at: "backup.region")
        let verify = r.oneOf(b["verify"], at: "backup.verify", VerifyMode.self) ?? .ifPresent
        let settle = r.duration(b["settle"], at: "backup.settle") ?? BackupConfig.defaultSettle
        let decrypt = DecryptConfig.parse(b["decrypt"], reader: r)
        let connections = b["connections"].flatMap { r.integer($0, at: "backup.connections", range: 1...64) }
        let chunkMiB = b["chunk_mib"].flatMap { r.integer($0, at: "backup.chunk_mib", range: 1...256) }
        guard let location else { return nil }
        var config = BackupConfig(location: location, pattern: pattern, format: format, endpoint: endpoint, region: region,
                                  verify: verify, settle: settle)
        config.decrypt = decrypt
        config.download = DownloadOptions(connections: connections ?? DownloadOptions.defaultConnections,
                                          chunkBytes: chunkMiB.map { Int64($0) << 20 } ?? DownloadOptions.defaultChunkBytes)
        return config
    }
}
