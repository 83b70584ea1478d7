import DrillCore
import Foundation
import Logging

/// The live `PgBackRestTool`: runs the real `pgbackrest` as drill's own user (it must be able to read the repository;
/// the scratch server's user never does). Every run gets `--no-config` unless the drill names a config file, a private
/// lock folder, no log files, and the drill file's options as `PGBACKREST_*` environment of that one child only.
public struct PgBackRestCLI: PgBackRestTool {
    public var executable: String
    public var scratchRoot: String
    public var logger: Logger
    public var memoryBytes: UInt64
    /// The environment pgBackRest children inherit from (repository variables only; see `PgBackRestInvocation`).
    public var environment: [String: String]

    public init(executable: String, scratchRoot: String, logger: Logger,
                memoryBytes: UInt64 = ProcessInfo.processInfo.physicalMemory,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.executable = executable
        self.scratchRoot = scratchRoot
        self.logger = logger
        self.memoryBytes = memoryBytes
        self.environment = environment
    }

    /// `$DRILL_PGBACKREST`, else `pgbackrest` on `PATH`; nil when there is none.
    public static func discover(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let p = environment["DRILL_PGBACKREST"], !p.isEmpty { return p }
        for dir in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = (String(dir) as NSString).appendingPathComponent("pgbackrest")
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    // MARK: PgBackRestTool

    public func version() async -> String? {
        let r = await ChildProcess.runCancellable(ProcessSpec(executable: executable, arguments: ["version"],
                                                              unsetEnvironment: ["PGBACKREST_*"]))
        let v = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return r.succeeded && !v.isEmpty ? v : nil
    }

    public func info(_ s: PgBackRestSettings, set: String?) async throws -> PgBackRestInfo {
        let r = try await withPrivateFolder { dir in
            try await run(PgBackRestInvocation.info(s, set: set, lockPath: dir), s, stdout: .capture(limit: 64 << 20))
        }
        try check(r, "pgbackrest info", s)
        do { return try PgBackRestInfo.parse(Data(r.stdout.utf8), stanza: s.stanza) } catch {
            throw DrillError(.backupUnreadable, "\(error)")
        }
    }

    public func verify(_ s: PgBackRestSettings) async throws -> PgBackRestVerifyResult {
        let r = try await withPrivateFolder { dir in
            try await run(PgBackRestInvocation.verify(s, lockPath: dir), s, stdout: .capture(limit: 16 << 20),
                          stderr: .capture(limit: 4 << 20))
        }
        try check(r, "pgbackrest verify", s)
        return PgBackRestVerifyResult.parse(stdout: r.stdout, stderr: r.stderr, stanza: s.stanza)
    }

    public func archiveListing(_ s: PgBackRestSettings, archiveID: String, folder: String?) async throws -> [PgBackRestArchiveListing.Entry] {
        try await withPrivateFolder { dir in
            // A long archive's listing can be large: it goes to a file, not into memory twice.
            let out = (dir as NSString).appendingPathComponent("repo-ls.json")
            let r = try await run(PgBackRestInvocation.archiveListing(s, archiveID: archiveID, folder: folder, lockPath: dir), s,
                                  stdout: .file(out))
            try check(r, "pgbackrest repo-ls", s)
            guard let data = FileManager.default.contents(atPath: out) else { return [] }
            do { return try PgBackRestArchiveListing.parse(data) } catch {
                throw DrillError(.backupUnreadable, "pgbackrest repo-ls of archive \(archiveID) printed no JSON listing: \(error)")
            }
        }
    }

    public func prepare(drill: DrillConfig, profile: RestoreProfile, postgres: PostgresInstallation?) async throws -> any PgBackRestSession {
        let session = try await BaseBackupSession.create(drill: drill, profile: profile, postgres: postgres, scratchRoot: scratchRoot,
                                                         memoryBytes: memoryBytes, logger: logger)
        do {
            return try PgBackRestScratch(session: session, cli: self)
        } catch {
            _ = await session.teardown()
            throw error
        }
    }

    // MARK: Running pgBackRest

    /// Runs pgbackrest with the drill's repository environment (see `PgBackRestInvocation.environment`).
    func run(_ arguments: [String], _ s: PgBackRestSettings, stdout: ProcessSpec.Output = .capture(limit: 1 << 20),
             stderr: ProcessSpec.Output = .capture(limit: 256 * 1024)) async throws -> ProcessResult {
        let env = PgBackRestInvocation.environment(s, inherited: environment)
        logger.debug("pgbackrest", metadata: ["args": "\(arguments.joined(separator: " "))"])
        let r = await ChildProcess.runCancellable(ProcessSpec(executable: executable, arguments: arguments, environment: env.set,
                                                              unsetEnvironment: env.unset, stdout: stdout, stderr: stderr))
        try Task.checkCancellation()
        return r
    }

    /// Throws the drill error for a pgBackRest run that failed: an option problem (pgBackRest errors 031–039) is a
    /// configuration error; anything else means the repository could not be read.
    func check(_ r: ProcessResult, _ what: String, _ s: PgBackRestSettings, code: DrillError.Code = .backupUnreadable) throws {
        guard !r.succeeded else { return }
        if r.exitCode == 127 && r.stdout.isEmpty && !FileManager.default.isExecutableFile(atPath: executable) {
            throw DrillError(.unsupported, "\(executable) cannot be run: install pgBackRest (Debian: apt-get install pgbackrest)")
        }
        let text = PgBackRestInvocation.errorText(r.stderr)
        let pgCode = PgBackRestInvocation.errorCode(in: r.stderr)
        if let pgCode, (31...39).contains(pgCode) {
            throw DrillError(.configuration, "\(what) refused the drill's pgBackRest settings (\(s.source)): \(text)")
        }
        throw DrillError(code, "\(what) failed for stanza \(s.stanza), repo \(s.repo) (\(r.summary)): \(text.isEmpty ? "no error message" : text)")
    }

    /// A private 0700 folder (for a lock path and listings) removed afterwards.
    func withPrivateFolder<T>(_ body: (String) async throws -> T) async throws -> T {
        let dir = try EmbeddedCluster.makePrivateDirectory(under: scratchRoot, prefix: "drill-pgbackrest-")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        return try await body(dir)
    }
}
