import DrillCore
import Foundation
import Logging

/// One physical restore: a scratch cluster whose data folder is populated from a base backup, a private WAL folder
/// `restore_command` copies from, and the recovery itself. Teardown removes all of it. The tool-restored methods
/// (pgBackRest, Barman) recover through the same session (`ToolRestoredSession`).
public final class BaseBackupSession: PhysicalSession, @unchecked Sendable {
    public let cluster: EmbeddedCluster
    public let database: String
    public let walDirectory: String
    /// How a base backup on S3 or HTTP(S) is downloaded (`backup.connections`, `backup.chunk_mib`).
    let download: DownloadOptions
    let logger: Logger
    let lock = NSLock()
    private var _serverVersion = "unknown"
    var _extracted: ExtractedBackup?
    private var recoverySettings: [(String, String)] = []
    /// Where `backup_manifest` is kept (outside the data folder, which must stay as the backup made it until verified).
    var manifestPath: String { (cluster.root as NSString).appendingPathComponent("backup_manifest") }

    /// A scratch cluster for a physical restore (its folders only, nothing started) with the server programs of
    /// `postgres` (the backup's major), else the first PostgreSQL found.
    static func create(drill: DrillConfig, profile: RestoreProfile, postgres: PostgresInstallation?, scratchRoot: String,
                       memoryBytes: UInt64, logger: Logger) async throws -> BaseBackupSession {
        let binaries = try await PostgresBinaries.forServer(postgres)
        let cluster = try EmbeddedCluster.create(name: drill.name, scratchRoot: scratchRoot, binaries: binaries,
                                                 settings: PhysicalSettings.forRecovery(profile: profile, memoryBytes: memoryBytes),
                                                 logger: logger)
        do {
            return try BaseBackupSession(cluster: cluster, database: drill.database ?? "postgres", download: drill.backup.download,
                                         logger: logger)
        } catch {
            _ = await cluster.teardown()
            throw error
        }
    }

    init(cluster: EmbeddedCluster, database: String, download: DownloadOptions = DownloadOptions(), logger: Logger) throws {
        self.cluster = cluster
        self.database = database
        self.download = download
        self.logger = logger
        walDirectory = (cluster.root as NSString).appendingPathComponent("wal")
        for dir in [cluster.dataDirectory, walDirectory] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
            if let runAs = cluster.runAs { try runAs.chown(dir) }
        }
    }

    // MARK: ScratchDatabase

    public var kind: String { "embedded" }
    public var connection: ConnectionParameters { cluster.connection(database: database) }
    public var serverVersion: String { lock.withLock { _serverVersion } }
    public var settings: [String: String] {
        Dictionary(cluster.settings + lock.withLock { recoverySettings }, uniquingKeysWith: { _, b in b })
    }
    public func teardown() async -> TeardownResult { await cluster.teardown() }
    public var keepInstructions: String {
        "psql \"host=\(cluster.socketDirectory) port=\(cluster.port) user=\(cluster.superuser) dbname=\(database)\"" +
            "  (stop it with: kill -INT \(cluster.serverPID.map(String.init) ?? "<pid>"); then delete \(cluster.root)" +
            (cluster.socketDirectory.hasPrefix(cluster.root) ? "" : " and \(cluster.socketDirectory)") + ")"
    }

    // MARK: Extract

    public func extract(_ backup: StagedBackup) async throws -> ExtractedBackup {
        let src = backup.path
        try await populate(cluster.dataDirectory, from: src)
        if FileManager.default.fileExists(atPath: (src as NSString).appendingPathComponent("backup_manifest")) {
            try FileManager.default.copyItem(atPath: (src as NSString).appendingPathComponent("backup_manifest"), toPath: manifestPath)
        }
        return try await finishExtraction(bytes: backup.sizeBytes)
    }

    /// Fills `dir` (the data folder, or a private folder for a backup of an incremental chain) from a backup folder,
    /// as the server's account: a tar-format backup's base archive and `pg_wal` archive extracted, a plain-format
    /// folder copied. A tar-format backup's `backup_manifest` stays where it is.
    func populate(_ dir: String, from src: String) async throws {
        let fm = FileManager.default
        func path(_ name: String) -> String { (src as NSString).appendingPathComponent(name) }
        if let base = Self.baseArchive(in: src) {
            let archives = ((try? fm.contentsOfDirectory(atPath: src)) ?? []).filter { TarCompression(name: $0) != nil }
            let tablespaces = archives.filter { !$0.hasPrefix("base.") && !$0.hasPrefix("pg_wal.") }
            if !tablespaces.isEmpty {
                throw DrillError(.unsupported, "the base backup has tablespace archives (\(tablespaces.sorted().joined(separator: ", "))), which drill does not restore yet")
            }
            try await untar(path(base), into: dir)
            for name in archives.sorted() where name.hasPrefix("pg_wal.") {
                try await untar(path(name), into: try walFolder(in: dir))
            }
        } else if fm.fileExists(atPath: path("backup_label")) {
            try await copyPlain(src, into: dir)
        } else {
            throw DrillError(.backupUnreadable, "\(src) holds neither base.tar[.gz|.lz4|.zst] (tar format) nor backup_label (plain format): not a pg_basebackup backup")
        }
    }

    /// After the files are in the data folder (written by tar as the server's account): the manifest kept outside
    /// it, backup_label read, WAL of its own and the segment size found.
    func finishExtraction(bytes: Int64) async throws -> ExtractedBackup {
        let fm = FileManager.default
        let data = cluster.dataDirectory
        // Plain backups hold the manifest inside: keep it out of the data folder like tar backups.
        let inside = (data as NSString).appendingPathComponent("backup_manifest")
        if fm.fileExists(atPath: inside) {
            if !fm.fileExists(atPath: manifestPath) { try fm.copyItem(atPath: inside, toPath: manifestPath) }
            try fm.removeItem(atPath: inside)
        }
        chmod(data, 0o700)

        guard let labelData = fm.contents(atPath: (data as NSString).appendingPathComponent("backup_label")) else {
            throw DrillError(.backupCorrupt, "the extracted backup has no backup_label: it was not taken with pg_basebackup, or it is damaged")
        }
        let label: BackupLabel
        do { label = try BackupLabel.parse(String(decoding: labelData, as: UTF8.self)) } catch {
            throw DrillError(.backupCorrupt, "backup_label: \(error)")
        }
        // A chain from a local backup.location was combined before this (pg_combinebackup's backup_label no longer
        // says INCREMENTAL); one still incremental here came from S3 or HTTP(S), and PostgreSQL would refuse to start.
        if let from = label.incrementalFromLSN {
            throw DrillError(.unsupported, "the backup is incremental (INCREMENTAL FROM LSN \(from)): drill combines incremental chains "
                             + "from a local backup.location only (the full backup and its incrementals in folders side by side)")
        }
        let walFiles = ((try? fm.contentsOfDirectory(atPath: (data as NSString).appendingPathComponent("pg_wal"))) ?? [])
            .filter(WALSegment.looksLikeName)
        let extracted = ExtractedBackup(label: label, hasManifest: fm.fileExists(atPath: manifestPath),
                                        walSegmentSize: try await cluster.walSegmentSize(), includesWAL: !walFiles.isEmpty,
                                        bytes: bytes)
        lock.withLock { _extracted = extracted }
        return extracted
    }

    /// A plain-format backup folder: drill's `tar -c` reads it (production's files may be readable by drill only) and
    /// the account's `tar -x` writes it, as for a tar-format backup: an unprivileged tar cannot recreate a device node
    /// or keep a set-user-ID bit the folder holds (a backup is untrusted input), and the files are the account's from
    /// the start. Symlinks are copied as symlinks, never followed.
    private func copyPlain(_ src: String, into dir: String) async throws {
        let reader = try ChildProcess(ProcessSpec(executable: cluster.binaries.tool("tar"), arguments: Self.plainReadArguments(src),
                                                  unsetEnvironment: ["PG*"], stdout: .pipe, stderr: .capture(limit: 32 * 1024)))
        guard let out = reader.stdout else { throw DrillError(.restoreFailed, "copying the base backup: no pipe from tar") }
        let spec = tarSpec(Self.untarStreamArguments(compression: "base.tar", pigz: nil, into: dir), stdin: .pipe)
        let written: (ProcessResult, StreamReceipt?)
        do {
            written = try await StreamedRun.run(spec, input: .stream { sink in
                let c = await Pump.copy(from: out.fileDescriptor, to: sink.fileDescriptor)
                if let e = c.writeError { throw DrillError(.backupCorrupt, "copying the base backup: tar stopped reading (\(e))") }
                return StreamReceipt(bytes: c.bytes, sha256: "")
            })
        } catch {
            _ = await reader.wait(killAfter: 1)
            throw error
        }
        let read = await reader.wait()
        try? out.close()
        try Task.checkCancellation()
        guard read.succeeded else { throw DrillError(.backupUnreadable, "reading the base backup \(src) failed (\(read.summary)): \(lastError(read.stderr))") }
        guard written.0.succeeded else {
            throw DrillError(.backupCorrupt, "copying the base backup failed (\(written.0.summary)): \(lastError(written.0.stderr))")
        }
    }

    /// `tar -c` of a plain-format backup folder's contents onto standard output (symlinks as symlinks).
    public static func plainReadArguments(_ src: String) -> [String] {
        ["-c", "-f", "-", "-C", src, "."]
    }

    /// A local archive, read by drill and fed to `tar -x` running as the server's account.
    private func untar(_ archive: String, into dir: String) async throws {
        let name = (archive as NSString).lastPathComponent
        try await run(tarSpec(Self.untarStreamArguments(compression: name, pigz: Self.pigz, into: dir), stdin: .file(archive)),
                      "extracting \(name)", code: .backupCorrupt)
    }

    /// `tar` as the scratch server's account (when drill runs as root), in the cluster's sandbox: the files it creates
    /// belong to that account (no `chown -R` pass afterwards), and it cannot create device nodes, keep set-user-ID
    /// bits or write where that account cannot, whatever the archive holds (a backup is untrusted input). GNU tar
    /// also drops leading `/` and members with `..`, and does not extract through a symlink the archive made.
    func tarSpec(_ arguments: [String], stdin: ProcessSpec.Input) -> ProcessSpec {
        var spec = cluster.serverSpec(cluster.binaries.tool("tar"), arguments, stdout: .null, stderr: .capture(limit: 32 * 1024))
        spec.stdin = stdin
        return spec
    }

    /// The data folder's `pg_wal` (or that of `data`), made for `pg_wal.tar` (owned by the server's account, which
    /// extracts into it).
    func walFolder(in data: String? = nil) throws -> String {
        let dir = ((data ?? cluster.dataDirectory) as NSString).appendingPathComponent("pg_wal")
        if !FileManager.default.fileExists(atPath: dir) {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        }
        if let runAs = cluster.runAs { try runAs.chown(dir) }
        return dir
    }


    // MARK: Verify

    public func verify() async throws -> String {
        let tool = cluster.binaries.tool("pg_verifybackup")
        let version = await PostgresBinaries.version(of: tool)
        let args = Self.verifyArguments(manifest: manifestPath, data: cluster.dataDirectory,
                                        parseWAL: lock.withLock { _extracted?.includesWAL } == true)
        let r = await ChildProcess.runCancellable(ProcessSpec(executable: tool, arguments: args, unsetEnvironment: ["PG*"],
                                                              stderr: .capture(limit: 32 * 1024)))
        try Task.checkCancellation()
        guard r.succeeded else {
            let errors = r.stderr.split(separator: "\n").filter { $0.contains("error:") }.prefix(3).joined(separator: "; ")
            throw DrillError(.backupCorrupt, "pg_verifybackup found the base backup damaged: \(errors.isEmpty ? lastError(r.stderr) : errors)")
        }
        return "pg_verifybackup \(version)"
    }

    // MARK: WAL

    public func importWAL(_ file: WALArchive.File, from store: any BackupStore) async throws -> Int64 {
        try await importWAL(file, from: store, into: nil)
    }

    /// Copies (or downloads and decompresses) one archived WAL file into `into` (default: the WAL folder).
    func importWAL(_ file: WALArchive.File, from store: any BackupStore, into: String?) async throws -> Int64 {
        let fm = FileManager.default
        let staged: StagedBackup
        if let local = file.object.localPath {
            // A local archive is copied directly (staging would hash every segment for nothing).
            staged = StagedBackup(path: local, isDirectory: false, sizeBytes: file.object.sizeBytes ?? 0, sha256: "", isTemporary: false)
        } else {
            let incoming = (cluster.root as NSString).appendingPathComponent("wal-in")
            // Several files are fetched at once: creating the folder must not fail because another fetch just did.
            try fm.createDirectory(atPath: incoming, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            staged = try await store.stage(file.object, into: incoming, progress: nil)
        }
        defer { if staged.isTemporary { try? fm.removeItem(atPath: staged.path) } }
        let dest = ((into ?? walDirectory) as NSString).appendingPathComponent(file.walName)
        try? fm.removeItem(atPath: dest)
        guard let handle = FileHandle(forReadingAtPath: staged.path) else {
            throw DrillError(.backupUnreadable, "cannot read archived WAL file \(file.object.uri)")
        }
        let head = [UInt8]((try? handle.read(upToCount: 4)) ?? Data())
        try? handle.close()
        if let codec = WALFileFormat.codec(name: file.object.name, head: head) {
            // Compressed by the archive command (`.gz`) or by the backup tool (Barman keeps the plain name).
            let r = await ChildProcess.runCancellable(ProcessSpec(executable: cluster.binaries.tool(codec), arguments: ["-dc", "--", staged.path],
                                                                  stdout: .file(dest)))
            try Task.checkCancellation()
            guard r.succeeded else {
                throw DrillError(.backupCorrupt, "archived WAL file \(file.object.name) is not valid \(codec): \(lastError(r.stderr))")
            }
        } else if WALSegment.looksLikeName(file.walName), !WALFileFormat.isSegment(head) {
            throw DrillError(.backupUnreadable, "archived WAL file \(file.object.name) is neither a WAL segment nor gzip or bzip2 (drill does not read other compressions, such as a backup tool's custom one)")
        } else if staged.isTemporary {
            try fm.moveItem(atPath: staged.path, toPath: dest)
        } else {
            do { try fm.copyItem(atPath: staged.path, toPath: dest) } catch {
                throw DrillError(.backupUnreadable, "cannot copy archived WAL file \(file.object.uri): \(error.localizedDescription)")
            }
        }
        chmod(dest, 0o600)
        if let runAs = cluster.runAs { try runAs.chown(dest) }
        return staged.sizeBytes
    }

    public func lastCommit(from: WALSegment, to: WALSegment) async -> Date? {
        let r = await ChildProcess.runCancellable(ProcessSpec(
            executable: cluster.binaries.tool("pg_waldump"), arguments: Self.walDumpArguments(walDirectory: walDirectory, from: from, to: to),
            environment: ["TZ": "UTC", "LC_ALL": "C"], unsetEnvironment: ["PG*"], stdout: .capture(limit: 4 << 20)))
        // pg_waldump exits non-zero at the end of the last segment ("invalid record length"); its output still counts.
        // Captured output keeps its tail when it is long, and the last commit is in the tail.
        return WALDump.lastCommitTime(in: r.stdout)
    }

    // MARK: Recover

    public func recover(target: Date?) async throws -> RecoveryOutcome {
        try await recover(target: target, progress: nil)
    }

    public func recover(target: Date?, progress: TransferProgress?) async throws -> RecoveryOutcome {
        try await recover(target: target, progress: progress, commandLine: false)
    }

    /// Writes the recovery settings (restore_command: drill's waiting script over the private WAL folder), starts the
    /// server and waits until it is promoted, reporting replay's position through `progress` (`ReplayWatcher`).
    /// `commandLine`: drill's own settings also go on the server's command line, above whatever the restored
    /// configuration files say (a tool-restored data folder holds production's `postgresql.conf`).
    func recover(target: Date?, progress: TransferProgress?, commandLine: Bool) async throws -> RecoveryOutcome {
        let recovery = ClusterRecovery(cluster: cluster)
        let script = try WALWaitScript.install(in: cluster.root, walDirectory: walDirectory)
        let extra = try recovery.configure(recovery: PhysicalSettings.recovery(waitScript: script, target: target))
        lock.withLock { recoverySettings = extra }
        var segmentSize = lock.withLock { _extracted?.walSegmentSize }
        if segmentSize == nil, progress != nil { segmentSize = try? await cluster.walSegmentSize() }
        let watcher = ReplayWatcher(walDirectory: walDirectory, segmentSize: segmentSize ?? WALSegment.defaultSize, report: progress)
        let outcome = try await watcher.watch {
            try await recovery.run(target: target, commandLine: commandLine ? ToolRestoredSession.commandLine(cluster, configured: extra) : [])
        }
        lock.withLock { _serverVersion = outcome.serverVersion }
        return outcome
    }

    // MARK: Invocations (pure, tested)

    /// `pg_verifybackup`; without WAL of its own the backup's WAL ranges cannot be parsed, but files are still checked.
    public static func verifyArguments(manifest: String, data: String, parseWAL: Bool) -> [String] {
        ["--manifest-path=\(manifest)"] + (parseWAL ? [] : ["--no-parse-wal"]) + [data]
    }

    /// `pg_waldump` over the fetched segments, commit records only.
    public static func walDumpArguments(walDirectory: String, from: WALSegment, to: WALSegment) -> [String] {
        ["--path=\(walDirectory)", "--rmgr=Transaction", from.name, to.name]
    }

    // MARK: Helpers

    func run(_ spec: ProcessSpec, _ what: String, code: DrillError.Code = .restoreFailed) async throws {
        let r = await ChildProcess.runCancellable(spec)
        try Task.checkCancellation()
        guard r.succeeded else { throw DrillError(code, "\(what) failed (\(r.summary)): \(lastError(r.stderr))") }
    }
}
