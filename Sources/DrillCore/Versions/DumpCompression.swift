import Foundation

/// How `pg_dump` compressed the data of a custom-format archive (or of a directory dump's data files), as its header
/// records it: archive format 1.15 (pg_dump 16) and later store the algorithm (`-Z lz4`, `-Z zstd:9`, …), older
/// archives a gzip level (0: none).
public enum DumpCompression: String, Sendable, Codable, CaseIterable {
    case none, gzip, lz4, zstd

    /// The algorithm byte of a 1.15+ header (PostgreSQL's `pg_compress_algorithm`); nil for an unknown one.
    public init?(algorithm byte: UInt8) {
        switch byte {
        case 0: self = .none
        case 1: self = .gzip
        case 2: self = .lz4
        case 3: self = .zstd
        default: return nil
        }
    }

    /// The compression of a pre-1.15 header from its gzip level (`-1` is zlib's default level).
    public init(gzipLevel level: Int) { self = level == 0 ? .none : .gzip }

    /// The library a PostgreSQL build needs to read it (`zlib`, `lz4`, `zstd`); nil for `none`.
    public var library: String? {
        switch self {
        case .none: nil
        case .gzip: "zlib"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }

    /// `lz4-compressed`, `uncompressed`.
    public var adjective: String { self == .none ? "uncompressed" : "\(rawValue)-compressed" }
}

/// The compressed archives an installation's `pg_restore` can read, and how that was learnt.
public struct CompressionSupport: Sendable, Equatable, Codable {
    /// The algorithms it reads besides `none` (which every `pg_restore` reads), in `DumpCompression` order.
    public var algorithms: [DumpCompression]
    /// `pg_config --configure` or `pg_dump --compress` (the probe of the fallback).
    public var source: String

    public init(algorithms: [DumpCompression], source: String) {
        self.algorithms = DumpCompression.allCases.filter { $0 != .none && algorithms.contains($0) }
        self.source = source
    }

    public func reads(_ c: DumpCompression) -> Bool { c == .none || algorithms.contains(c) }

    /// From `pg_config --configure` of an autoconf build (`'--with-lz4' '--with-zstd' …`; zlib unless `--without-zlib`).
    /// Nil when it records no options: a meson build records none, and an empty record cannot tell defaults from
    /// "not recorded".
    public static func fromConfigure(_ text: String, major: Int) -> CompressionSupport? {
        let options = Set(text.split(whereSeparator: \.isWhitespace).map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "'\"")) })
        guard options.contains(where: { $0.hasPrefix("--") }) else { return nil }
        var found: [DumpCompression] = []
        if !options.contains("--without-zlib") { found.append(.gzip) }
        if major >= firstMajorWithLZ4AndZstd {
            if options.contains("--with-lz4") { found.append(.lz4) }
            if options.contains("--with-zstd") { found.append(.zstd) }
        }
        return CompressionSupport(algorithms: found, source: "pg_config --configure")
    }

    /// What the fallback probe found: the standard error of `pg_dump --compress=<algorithm>` aimed at a socket that
    /// cannot exist (`socket`), so that it stops right after checking its options. An algorithm is readable when
    /// `pg_dump` went on to connect (its error names `socket`) without a word about compression; it is missing when
    /// `pg_dump` refused it ("does not support compression", or before 16 "not available in this installation").
    /// Nil when any answer is neither: the support stays unknown.
    public static func fromProbe(_ stderrs: [DumpCompression: String], socket: String) -> CompressionSupport? {
        var found: [DumpCompression] = []
        for (algorithm, stderr) in stderrs {
            let text = stderr.replacingOccurrences(of: socket, with: "").lowercased()
            if text.contains("does not support compression") || text.contains("not available in this installation") { continue }
            guard stderr.contains(socket), !text.contains("compress") else { return nil }
            found.append(algorithm)
        }
        return CompressionSupport(algorithms: found, source: "pg_dump --compress")
    }

    /// pg_dump 16 writes the first archives (format 1.15) compressed with lz4 or zstd: an older `pg_restore` reads
    /// none of them whatever its build (and such a dump needs a newer major anyway).
    public static let firstMajorWithLZ4AndZstd = 16

    /// The probes for a major, each with its `pg_dump` arguments: gzip always (`--compress=1` before 16, which took
    /// only a level), lz4 and zstd from 16 on. `socket` is a folder where no server can listen.
    public static func probes(major: Int, socket: String) -> [(DumpCompression, [String])] {
        let target = ["--format=custom", "--file=/dev/null", "--no-password", "--dbname=host=\(socket) port=1 connect_timeout=1"]
        guard major >= firstMajorWithLZ4AndZstd else { return [(.gzip, ["--compress=1"] + target)] }
        return [DumpCompression.gzip, .lz4, .zstd].map { ($0, ["--compress=\($0.rawValue)"] + target) }
    }
}
