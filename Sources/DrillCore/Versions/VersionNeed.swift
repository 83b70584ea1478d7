import Foundation

/// Which PostgreSQL a backup needs: the same major for a physical backup (the data folder's format), a major at least
/// as new as the `pg_dump` that wrote a dump (`pg_restore` refuses newer archives; `psql` may fail on newer SQL), and
/// for an archive whose data is compressed, a build that reads its compression (lz4 and zstd are optional in builds).
public struct VersionNeed: Sendable, Equatable, Codable {
    public enum Rule: String, Sendable, Codable {
        /// Physical backups: the server must be of the backup's major.
        case sameMajor = "same_major"
        /// Dumps: `pg_restore`/`psql` and the server of this major or newer.
        case atLeast = "at_least"
    }

    /// The backup's version: `pg_dump`'s for a dump, the data folder's for a physical backup.
    public var version: PostgresVersion
    public var rule: Rule
    /// Where `version` was read (`archive_header`, `toc.dat`, `plain_header`, `PG_VERSION`, …).
    public var source: String
    /// How an archive's data is compressed (its header says); nil for plain dumps and physical backups.
    public var compression: DumpCompression?

    public init(version: PostgresVersion, rule: Rule, source: String, compression: DumpCompression? = nil) {
        self.version = version
        self.rule = rule
        self.source = source
        self.compression = compression
    }

    /// Whether an installation of `v` can restore the backup (its version only: see `shortfall(of:)`).
    public func accepts(_ v: PostgresVersion) -> Bool {
        switch rule {
        case .sameMajor: v.major == version.major
        case .atLeast: v.major >= version.major
        }
    }

    /// The compression an installation must read, when it needs a library a build may lack (lz4, zstd, zlib).
    public var compressionNeeded: DumpCompression? { compression.flatMap { $0 == .none ? nil : $0 } }

    /// `PostgreSQL 18 or newer (written by pg_dump 18.6, gzip-compressed, from the archive header)`; `built with lz4`
    /// is said for the compressions builds commonly lack.
    public var description: String {
        switch rule {
        case .sameMajor: return "PostgreSQL \(version.major) (the backup's data folder is version \(version.description), from \(source))"
        case .atLeast:
            let built = compressionNeeded.flatMap { $0 == .gzip ? nil : " built with \($0.rawValue)" } ?? ""
            let compressed = compression.map { ", \($0.adjective)" } ?? ""
            return "PostgreSQL \(version.major) or newer\(built) (written by pg_dump \(version.description)\(compressed), from the \(source))"
        }
    }

    /// A dump's need from what its header says: `pg_dump`'s version (what `pg_restore` checks), else the source server's.
    public static func dump(pgDump: String?, server: String?, source: String, compression: DumpCompression? = nil) -> VersionNeed? {
        guard let v = pgDump.flatMap(PostgresVersion.init(parsing:)) ?? server.flatMap(PostgresVersion.init(parsing:)) else { return nil }
        return VersionNeed(version: v, rule: .atLeast, source: source, compression: compression)
    }
}

/// The header comments of a plain-SQL dump: `-- Dumped from database version 18.6` and
/// `-- Dumped by pg_dump version 18.6` (within its first lines, after `-- PostgreSQL database dump`).
public struct PlainDumpHeader: Sendable, Equatable {
    public var serverVersion: String?
    public var pgDumpVersion: String?
    /// True for a `pg_dumpall` cluster dump (`-- PostgreSQL database cluster dump`).
    public var isCluster: Bool

    public init(serverVersion: String? = nil, pgDumpVersion: String? = nil, isCluster: Bool = false) {
        self.serverVersion = serverVersion
        self.pgDumpVersion = pgDumpVersion
        self.isCluster = isCluster
    }

    /// Reads the header from a dump's first bytes; nil when they are not a pg_dump/pg_dumpall header.
    public static func parse(_ head: [UInt8]) -> PlainDumpHeader? {
        let text = String(decoding: head.prefix(8192), as: UTF8.self)
        let cluster = text.contains("-- PostgreSQL database cluster dump")
        guard cluster || text.contains("-- PostgreSQL database dump") else { return nil }
        var h = PlainDumpHeader(isCluster: cluster)
        for line in text.split(separator: "\n").prefix(80) {
            if let v = Self.value(line, after: "-- Dumped from database version ") { h.serverVersion = h.serverVersion ?? v }
            if let v = Self.value(line, after: "-- Dumped by pg_dump version ") { h.pgDumpVersion = h.pgDumpVersion ?? v }
            if let v = Self.value(line, after: "-- Dumped by pg_dumpall version ") { h.pgDumpVersion = h.pgDumpVersion ?? v }
        }
        return h
    }

    private static func value(_ line: Substring, after prefix: String) -> String? {
        guard line.hasPrefix(prefix) else { return nil }
        let v = line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
        return v.isEmpty ? nil : v
    }
}
