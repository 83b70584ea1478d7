import DrillCore
import Foundation
import Logging

/// Decodes compressed and encrypted dumps with Debian's tools, as a pipeline of child processes joined by pipes:
/// backup bytes → `age`/`gpg` → `zstd`/`lz4`/`bzip2`/`xz`/`gzip` → … → the restore tool. Each layer is recognised
/// from the first bytes of the previous one's output (read into memory, never onto disk). Decoders get an
/// allow-listed environment (the locale and the time zone): no credential of drill's reaches them, and the key
/// material reaches only `age` or `gpg` (a file they open themselves, or descriptor 3, a pipe drill fills).
public struct LiveBackupDecoder: BackupDecoder {
    public var logger: Logger
    public var environment: [String: String]
    /// Where gpg's private home copies go (short paths: gpg-agent's sockets live there).
    public var scratchRoot: String

    public init(logger: Logger, environment: [String: String] = ProcessInfo.processInfo.environment, scratchRoot: String = "/tmp") {
        self.logger = logger
        self.environment = environment
        self.scratchRoot = scratchRoot
    }

    /// At most this many layers (a guard against a stream that decodes into itself forever).
    static let maxLayers = 4

    public func open(_ raw: RestoreInput, name: String, decrypt: DecryptConfig?, drill: String?) async throws -> DecodedBackup {
        let pipeline = DecodingPipeline(name: name, decrypt: decrypt, environment: environment, scratchRoot: scratchRoot,
                                        drill: drill, logger: logger)
        do {
            return try await pipeline.start(raw)
        } catch {
            await pipeline.stop()
            throw error
        }
    }

    /// The decoder tool's path, or a failure that names the Debian package to install.
    static func tool(_ codec: Codec) throws -> String {
        for dir in ProcessSpec.safePath.split(separator: ":") {
            let p = "\(dir)/\(codec.tool)"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        let package = switch codec {
        case .xz: "xz-utils"
        case .openpgp: "gnupg"
        default: codec.tool
        }
        throw DrillError(.unsupported, "the backup is \(codec.adjective) but \(codec.tool) is not installed (Debian package \(package))")
    }

    /// The environment every decoder gets: the locale, the time zone, a fixed search path, messages in English.
    static func decoderSpec(_ executable: String, _ arguments: [String], passing: [Int32] = []) -> ProcessSpec {
        ProcessSpec(executable: executable, arguments: arguments, environment: ["PATH": ProcessSpec.safePath, "LC_MESSAGES": "C"],
                    stdin: .pipe, stdout: .pipe, stderr: .capture(limit: 16 * 1024), inherit: .only(ProcessSpec.localeAndZone),
                    passDescriptors: passing)
    }
}

/// One running decoding pipeline. Every child, thread and private key copy it starts ends in `stop()` or at the end
/// of the plaintext stream, whichever comes first.
final class DecodingPipeline: @unchecked Sendable {
    let name: String
    let decrypt: DecryptConfig?
    let environment: [String: String]
    let scratchRoot: String
    let drill: String?
    let logger: Logger
    private let lock = NSLock()
    private var stages: [(codec: Codec, child: ChildProcess)] = []
    private var feeders: [Task<Pump.Copied, Never>] = []
    private var raw: Task<StreamReceipt, any Error>?
    private var gnupg: PrivateGnuPGHome?
    private var stopped = false
    /// The plaintext's read end (the last decoder's output) and its first bytes.
    private var output: FileHandle?
    private var head: [UInt8] = []

    init(name: String, decrypt: DecryptConfig?, environment: [String: String], scratchRoot: String, drill: String?, logger: Logger) {
        self.name = name
        self.drill = drill
        self.decrypt = decrypt
        self.environment = environment
        self.scratchRoot = scratchRoot
        self.logger = logger
    }

    func start(_ input: RestoreInput) async throws -> DecodedBackup {
        let (r, w) = try ChildProcess.pipe()
        raw = Task {
            defer { try? w.close() }
            switch input {
            case .stream(let produce): return try await produce(w)
            case .path(let p):
                let fd = Glibc.open(p, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw DrillError(.backupUnreadable, "cannot read \(p)") }
                defer { close(fd) }
                let hasher = SHA256Hasher()
                let c = await Pump.copy(from: fd, to: w.fileDescriptor, hasher: hasher)
                if let e = c.readError { throw DrillError(.backupUnreadable, "reading \(p) failed: \(e)") }
                if let e = c.writeError { throw DrillLiveError.io("the decoder stopped reading: \(e)") }
                return StreamReceipt(bytes: c.bytes, sha256: hasher.finalizeHex())
            }
        }
        var current = r
        do {
            return try await decode(from: &current)
        } catch {
            try? current.close()  // nobody else reads it: the writers before it see a broken pipe and stop
            throw error
        }
    }

    private func decode(from current: inout FileHandle) async throws -> DecodedBackup {
        var bytes = await Pump.head(current.fileDescriptor, count: 4096)
        var codecs: [Codec] = []
        while let codec = Codec.detect(bytes) {
            guard codecs.count < LiveBackupDecoder.maxLayers else {
                throw DrillError(.backupCorrupt, "\(name) has more than \(LiveBackupDecoder.maxLayers) layers of compression or encryption")
            }
            let child = try spawn(codec)
            let (source, sink, prefix) = (current, child.stdin!, bytes)
            let feeder = Task {
                let c = await Pump.copy(prefix: prefix, from: source.fileDescriptor, to: sink.fileDescriptor)
                try? sink.close()
                try? source.close()
                return c
            }
            lock.withLock {
                stages.append((codec, child))
                feeders.append(feeder)
            }
            codecs.append(codec)
            current = child.stdout!
            bytes = await Pump.head(current.fileDescriptor, count: 4096)
            if bytes.isEmpty { throw await failure(emptyAfter: codec, child) }
        }
        let format: BackupFormat
        switch FormatDetector.detect(fileHead: bytes) {
        case .format(let f): format = f
        case .unknown(let why):
            throw DrillError(.backupCorrupt, "cannot recognise what \(name) holds once \(codecs.map(\.adjective).joined(separator: ", ")) layers are removed: \(why)")
        }
        var header: ArchiveHeader?
        if format == .custom || format == .tar {
            do {
                header = try ArchiveHeader.parse(format == .tar ? FormatDetector.tarTocBytes(bytes) : bytes)
            } catch {
                throw DrillError(.backupCorrupt, "\(name): \(error)")
            }
        }
        lock.withLock {
            output = current
            head = bytes
        }
        return DecodedBackup(found: DecodedFormat(codecs: codecs, format: format), header: header,
                             plainHeader: format == .plain || format == .dumpall ? PlainDumpHeader.parse(bytes) : nil,
                             input: .stream { [self] sink in try await self.finish(into: sink) },
                             cancel: { [self] in await self.stop() })
    }

    /// Starts the decoder of one layer; an encryption layer gets its key here (and fails here when none is configured).
    private func spawn(_ codec: Codec) throws -> ChildProcess {
        let tool = try LiveBackupDecoder.tool(codec)
        if let missing = DecryptConfig.missingKey(for: codec, in: decrypt) { throw DrillError(.decryptionFailed, "cannot decrypt \(name): \(missing)") }
        switch codec {
        case .age:
            if let variable = decrypt?.ageIdentityEnv {
                guard let identity = environment[variable], !identity.isEmpty else {
                    throw DrillError(.decryptionFailed, "cannot decrypt \(name): the variable \(variable) (backup.decrypt.age_identity_env) is not set")
                }
                return try spawnWithSecret(LiveBackupDecoder.decoderSpec(tool, DecodingStage.make(.age, identityFromPipe: true).arguments), identity)
            }
            let identity = decrypt?.ageIdentity ?? ""
            guard access(identity, R_OK) == 0 else {
                throw DrillError(.decryptionFailed, "cannot decrypt \(name): the age identity file \(identity) cannot be read")
            }
            return try ChildProcess(LiveBackupDecoder.decoderSpec(tool, DecodingStage.make(.age, ageIdentity: identity).arguments))
        case .openpgp:
            let home = try PrivateGnuPGHome.copy(of: decrypt?.gpgHomedir, under: scratchRoot, name: name, drill: drill)
            lock.withLock { gnupg = home }
            let passphrase: String? = try decrypt?.gpgPassphraseEnv.map { variable in
                guard let p = environment[variable] else {
                    throw DrillError(.decryptionFailed, "cannot decrypt \(name): the variable \(variable) (backup.decrypt.gpg_passphrase_env) is not set")
                }
                return p
            }
            let spec = LiveBackupDecoder.decoderSpec(tool, DecodingStage.make(.openpgp, gpgHome: home.path, passphraseFromPipe: passphrase != nil).arguments)
            if let passphrase { return try spawnWithSecret(spec, passphrase + "\n") }
            return try ChildProcess(spec)
        default:
            return try ChildProcess(LiveBackupDecoder.decoderSpec(tool, DecodingStage.make(codec).arguments))
        }
    }

    /// Starts a decoder that reads a secret on descriptor 3: a pipe, filled and closed before the decoder reads it.
    private func spawnWithSecret(_ spec: ProcessSpec, _ secret: String) throws -> ChildProcess {
        let (r, w) = try ChildProcess.pipe()
        var spec = spec
        spec.passDescriptors = [r.fileDescriptor]
        let child = try ChildProcess(spec)
        try? r.close()
        _ = Pump.writeAll(w.fileDescriptor, Array(secret.utf8)[...])
        try? w.close()
        return child
    }

    /// Why a layer produced nothing: the key did not open it, the data is not what its header says, or the backup's
    /// bytes did not arrive. Never shows key material (age and gpg do not print it; lines that could are dropped).
    private func failure(emptyAfter codec: Codec, _ child: ChildProcess) async -> DrillError {
        let result = await child.wait()
        if case .failure(let e)? = await rawResult(), let d = e as? DrillError { return d }
        let said = Self.sanitized(lastError(result.stderr))
        if codec.isEncryption {
            return DrillError(.decryptionFailed, "\(codec.tool) could not decrypt \(name) with the configured key (\(result.summary)): \(said)")
        }
        if result.succeeded { return DrillError(.backupCorrupt, "\(name) decompresses (\(codec.rawValue)) to nothing") }
        return DrillError(.backupCorrupt, "the \(codec.rawValue) stream of \(name) is damaged (\(codec.tool): \(said))")
    }

    private func rawResult() async -> Result<StreamReceipt, any Error>? {
        guard let raw = lock.withLock({ self.raw }) else { return nil }
        if lock.withLock({ stopped }) { return nil }
        return await raw.result
    }

    /// A decoder's message without anything that looks like key material.
    static func sanitized(_ text: String) -> String {
        let kept = text.split(separator: "\n").filter { line in
            !line.uppercased().contains("AGE-SECRET-KEY") && !line.contains("PRIVATE KEY")
        }
        return kept.isEmpty ? "no message" : kept.joined(separator: " ")
    }

    /// Writes the plaintext into the restore tool's input, then checks every decoder's exit.
    private func finish(into sink: FileHandle) async throws -> StreamReceipt {
        guard let (out, first) = lock.withLock({ output.map { ($0, head) } }) else {
            throw DrillLiveError.io("the decoding pipeline of \(name) was stopped")
        }
        let copied = await withTaskCancellationHandler {
            await Pump.copy(prefix: first, from: out.fileDescriptor, to: sink.fileDescriptor)
        } onCancel: {
            self.kill()
        }
        try? out.close()
        if copied.writeError != nil { kill() }  // the restore tool stopped reading: its own result tells why
        let (children, feeding, producer) = lock.withLock { (stages, feeders, raw) }
        var results: [(Codec, ProcessResult)] = []
        for (codec, child) in children { results.append((codec, await child.wait())) }
        for f in feeding { _ = await f.value }
        let produced = await producer?.result
        await cleanUp()
        try Task.checkCancellation()
        if case .failure(let e)? = produced, e is DrillError { throw e }
        if copied.writeError != nil { throw DrillLiveError.io("the restore tool stopped reading the decoded backup") }
        for (codec, r) in results where !r.succeeded {
            let said = Self.sanitized(lastError(r.stderr))
            throw DrillError(.backupCorrupt, "the \(codec.adjective) stream of \(name) is damaged or truncated (\(codec.tool), \(r.summary): \(said))")
        }
        switch produced {
        case .success(let receipt)?: return receipt
        case .failure(let e)?: throw e
        case nil: throw DrillLiveError.io("the backup's bytes were not read")
        }
    }

    private func kill() {
        let children = lock.withLock { stages.map(\.child) }
        for c in children { c.signal(SIGTERM) }
        lock.withLock { raw }?.cancel()
    }

    /// Ends everything the pipeline started (when the plaintext will not be consumed).
    func stop() async {
        kill()
        let (children, feeding, producer, out) = lock.withLock { (stages, feeders, raw, output) }
        try? out?.close()
        for (_, child) in children { _ = await child.wait() }
        for f in feeding { _ = await f.value }
        _ = await producer?.result
        await cleanUp()
    }

    private func cleanUp() async {
        let home: PrivateGnuPGHome? = lock.withLock {
            stopped = true
            defer { gnupg = nil }
            return gnupg
        }
        await home?.remove()
    }
}
