import Foundation

/// The WAL archive of one stanza as `pgbackrest repo-ls --recurse --output=json archive/<stanza>/<archive id>` lists
/// it. pgBackRest stores a segment as `<timeline+log>/<segment>-<SHA-1>[.gz|.lz4|.zst|.bz2]`, timeline history files
/// as `<timeline>.history` and backup history files as `<segment>.<offset>.backup`.
public enum PgBackRestArchiveListing {
    /// One archived file: the name PostgreSQL asks `restore_command` for, its path in the repository (relative to the
    /// listed folder), its size and time.
    public struct Entry: Sendable, Equatable {
        public var walName: String
        public var path: String
        public var sizeBytes: Int64?
        public var modifiedAt: Date
    }

    /// Parses repo-ls' JSON (an object from path to `{type, size, time}`); files only, each under the name
    /// PostgreSQL knows it by.
    public static func parse(_ data: Data) throws -> [Entry] {
        let value = try JSONValue.parse(data)
        guard case .object(let entries) = value else { throw PgBackRestInfo.ParseError.notJSON("repo-ls: expected an object") }
        var out: [Entry] = []
        for (path, attrs) in entries {
            guard case .object(let a) = attrs, case .string("file")? = a["type"] else { continue }
            guard let name = walName(ofStored: (path as NSString).lastPathComponent) else { continue }
            var size: Int64?
            if case .number(let n)? = a["size"] { size = Int64(n) }
            var time = Date(timeIntervalSince1970: 0)
            if case .number(let t)? = a["time"] { time = Date(timeIntervalSince1970: t) }
            out.append(Entry(walName: name, path: path, sizeBytes: size, modifiedAt: time))
        }
        return out.sorted { $0.path < $1.path }
    }

    /// `000000010000000000000003-5daa….gz` → `000000010000000000000003`; `00000002.history` and
    /// `000000010000000000000003.00000028.backup` as they are; anything else (archive.info, `.partial`) nil.
    public static func walName(ofStored name: String) -> String? {
        if name.hasSuffix(".history") || name.hasSuffix(".backup") { return name }
        let parts = name.split(separator: "-", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 24, parts[0].allSatisfy(\.isHexDigit) else { return nil }
        let hash = parts[1].prefix { $0 != "." }
        guard hash.count == 40 else { return nil }
        return String(parts[0])
    }

    /// The entries as store objects for `WALArchive`, which classifies segments and history files and plans the
    /// fetch; `uri` names the file in the repository, `key` is the WAL name `archive-get` is asked for.
    public static func objects(_ entries: [Entry], uriPrefix: String) -> [BackupObject] {
        entries.map { e in
            BackupObject(uri: uriPrefix + e.path, name: e.walName, sizeBytes: e.sizeBytes, modifiedAt: e.modifiedAt,
                         key: e.walName)
        }
    }
}
