import DrillCore
import Foundation
import Synchronization

/// Learns which compressed archives an installation's `pg_restore` reads (gzip needs zlib, lz4 and zstd are optional
/// in builds, and embedded builds often lack them).
///
/// First `pg_config --configure` of the same bin folder: the options an autoconf build was configured with
/// (`--with-lz4`, `--with-zstd`, `--without-zlib`). When the folder has no `pg_config`, or it records no options (a
/// meson build records none), the folder's own `pg_dump` is asked: `pg_dump --compress=<algorithm>` checks its
/// compression before it connects, so it is aimed at a socket in `/proc`, where no server can ever listen, and its
/// error says either that the build lacks the algorithm or that it could not connect. `pg_dump` and `pg_restore`
/// of one build share their compression code. When neither answers, the support is unknown (nil): such an
/// installation is chosen only when none is known to read the dump.
enum CompressionProbe {
    /// A socket folder no server can listen in.
    static let socket = "/proc/drill-pg-dump-probe"

    /// What each bin folder (resolved path and major) answered, for the life of the process: the catalogue is read
    /// for every drill (and `drill plan`), and the answer of an installation does not change meanwhile.
    private static let answers = Mutex<[String: CompressionSupport?]>([:])

    static func support(of binaries: PostgresBinaries, major: Int) async -> CompressionSupport? {
        let key = "\((binaries.directory as NSString).resolvingSymlinksInPath)\u{0}\(major)"
        if let known = answers.withLock({ $0[key] }) { return known }
        let found = await probe(binaries, major: major)
        answers.withLock { $0[key] = .some(found) }
        return found
    }

    private static func probe(_ binaries: PostgresBinaries, major: Int) async -> CompressionSupport? {
        if binaries.has("pg_config"),
           let r = try? await run(binaries.path("pg_config"), ["--configure"]), r.succeeded,
           let s = CompressionSupport.fromConfigure(r.stdout, major: major) {
            return s
        }
        guard binaries.has("pg_dump") else { return nil }
        var answers: [DumpCompression: String] = [:]
        for (algorithm, arguments) in CompressionSupport.probes(major: major, socket: socket) {
            guard let r = try? await run(binaries.path("pg_dump"), arguments) else { return nil }
            answers[algorithm] = r.stderr
        }
        return CompressionSupport.fromProbe(answers, socket: socket)
    }

    /// Runs a program of the installation with the C locale (untranslated messages) and none of drill's `PG*`
    /// variables or credentials.
    private static func run(_ program: String, _ arguments: [String]) async throws -> ProcessResult {
        try await ChildProcess.run(ProcessSpec(executable: program, arguments: arguments,
                                               environment: ["LC_ALL": "C", "LANG": "C"], inherit: .only(["PATH"])))
    }
}
