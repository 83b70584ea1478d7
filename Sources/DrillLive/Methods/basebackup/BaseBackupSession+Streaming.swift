import DrillCore
import Foundation
import Synchronization

/// A tar-format base backup streamed from its store (a local folder or S3) into `tar -x`: no staged copy, the
/// folder's digest computed on the bytes as they go through, decompression by the fastest tool installed.
extension BaseBackupSession {
    /// How a tar archive is compressed, from its name.
    enum TarCompression: Equatable {
        case none, gzip, lz4, zstd
        init?(name: String) {
            switch true {
            case name.hasSuffix(".tar"): self = .none
            case name.hasSuffix(".tar.gz"): self = .gzip
            case name.hasSuffix(".tar.lz4"): self = .lz4
            case name.hasSuffix(".tar.zst"): self = .zstd
            default: return nil
            }
        }
    }

    /// `tar -x` of standard input (`-f -`) or of a file, decompressing through `pigz` for gzip when it is installed
    /// (`pigz` path given), `lz4` and `zstd -T0` otherwise by their own tools; never restoring the archive's owners.
    public static func untarStreamArguments(compression name: String, pigz: String?, file: String = "-", into dir: String,
                                            extra: [String] = []) -> [String] {
        ["-x"] + decompression(name, pigz: pigz) + ["--no-same-owner"] + extra + ["-f", file, "-C", dir]
    }

    /// tar's options to decompress the archive `name` (by its suffix).
    static func decompression(_ name: String, pigz: String?) -> [String] {
        switch TarCompression(name: name) {
        case .gzip?: pigz.map { ["-I", $0] } ?? ["-z"]
        case .lz4?: ["-I", "lz4"]
        case .zstd?: ["-I", "zstd -T0"]
        default: []
        }
    }

    /// The base archive of a tar-format backup folder (`base.tar`, `.gz`, `.lz4`, `.zst`), nil for any other folder.
    static func baseArchive(in folder: String) -> String? {
        ["base.tar", "base.tar.gz", "base.tar.lz4", "base.tar.zst"].first {
            FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent($0))
        }
    }

    /// `pigz` when installed (parallel gzip: reading, decompressing and checking run on separate threads).
    static var pigz: String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") + ["/usr/bin"] {
            let p = "\(dir)/pigz"
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return nil
    }

    public func extractStreaming(_ files: [BackupObject], from store: any BackupStore,
                                 progress: TransferProgress?) async throws -> StreamedExtraction? {
        let archives = files.filter { TarCompression(name: $0.name) != nil }
        guard let base = archives.first(where: { $0.name.hasPrefix("base.tar") }), !files.contains(where: \.isDirectory) else { return nil }
        let tablespaces = archives.filter { !$0.name.hasPrefix("base.") && !$0.name.hasPrefix("pg_wal.") }
        if !tablespaces.isEmpty {
            throw DrillError(.unsupported, "the base backup has tablespace archives (\(tablespaces.map(\.name).sorted().joined(separator: ", "))), which drill does not restore yet")
        }
        let data = cluster.dataDirectory
        let total = files.compactMap(\.sizeBytes).reduce(0, +)
        let counter = ProgressCounter(total: total, progress: progress)
        let pigz = Self.pigz
        // base.tar and pg_wal.tar are extracted at the same time (two tar processes); the other files are read after.
        async let baseReceipt = untar(base, from: store, into: data, pigz: pigz, counter: counter, download: download)
        var receipts: [(name: String, receipt: StreamReceipt)] = []
        // pg_wal.tar comes over one more connection, beside base.tar's: the memory bound is base.tar's window alone.
        for wal in archives where wal.name.hasPrefix("pg_wal.") {
            receipts.append((wal.name, try await untar(wal, from: store, into: try walFolder(), pigz: pigz, counter: counter,
                                                       download: .single)))
        }
        receipts.append((base.name, try await baseReceipt))
        for file in files where TarCompression(name: file.name) == nil {
            let path = file.name == "backup_manifest" ? manifestPath : "/dev/null"
            guard let sink = FileHandle(forWritingAtPath: path) ?? (FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
                ? FileHandle(forWritingAtPath: path) : nil) else {
                throw DrillError(.provisionFailed, "cannot write \(path)")
            }
            defer { try? sink.close() }
            let receipt = try await store.stream(file, to: sink, progress: counter.part())
            receipts.append((file.name, receipt))
        }
        // The folder digest staging computes: SHA-256 over `<name>\0<size>\0<sha256>\n`, by name.
        let h = SHA256Hasher()
        for r in receipts.sorted(by: { $0.name < $1.name }) {
            h.update(Data("\(r.name)\u{0}\(r.receipt.bytes)\u{0}\(r.receipt.sha256)\n".utf8))
        }
        let bytes = receipts.map(\.receipt.bytes).reduce(0, +)
        let extracted = try await finishExtraction(bytes: bytes)
        return StreamedExtraction(extracted: extracted, sha256: h.finalizeHex(), sizeBytes: bytes)
    }

    private func untar(_ archive: BackupObject, from store: any BackupStore, into dir: String, pigz: String?,
                       counter: ProgressCounter, download: DownloadOptions) async throws -> StreamReceipt {
        let spec = tarSpec(Self.untarStreamArguments(compression: archive.name, pigz: pigz, into: dir), stdin: .pipe)
        let part = counter.part()
        let (r, receipt) = try await StreamedRun.run(spec, input: .stream { sink in
            try await store.stream(archive, to: sink, options: download, progress: part)
        })
        guard r.succeeded, let receipt else {
            throw DrillError(.backupCorrupt, "extracting \(archive.name) failed (\(r.summary)): \(lastError(r.stderr))")
        }
        return receipt
    }

    public func peekLabel(_ files: [BackupObject], from store: any BackupStore) async -> BackupLabel? {
        guard let base = files.first(where: { $0.name.hasPrefix("base.tar") && TarCompression(name: $0.name) != nil }),
              let head = try? await store.head(base, count: 256 << 10), !head.isEmpty else { return nil }
        // pg_basebackup writes backup_label first into base.tar: the head of the archive holds it.
        let tmp = (cluster.root as NSString).appendingPathComponent("label-head")
        guard FileManager.default.createFile(atPath: tmp, contents: Data(head), attributes: [.posixPermissions: 0o600]) else { return nil }
        defer { try? FileManager.default.removeItem(atPath: tmp) }
        var args = Self.untarStreamArguments(compression: base.name, pigz: nil, file: tmp, into: cluster.root,
                                             extra: ["-O", "--occurrence=1"])
        args.append("backup_label")
        let r = await ChildProcess.runCancellable(ProcessSpec(executable: cluster.binaries.tool("tar"), arguments: args,
                                                              stdout: .capture(limit: 64 * 1024), stderr: .capture(limit: 8 * 1024)))
        // A truncated archive makes tar (or its decompressor) complain after it printed the member.
        return try? BackupLabel.parse(r.stdout)
    }
}

/// Adds up the progress of several transfers running at once into one figure.
final class ProgressCounter: Sendable {
    private let parts = Mutex<[Int64]>([])
    private let total: Int64
    private let progress: TransferProgress?

    init(total: Int64, progress: TransferProgress?) {
        self.total = total
        self.progress = progress
    }

    func part() -> TransferProgress {
        let index = parts.withLock { p in p.append(0); return p.count - 1 }
        return { [self] done, _ in
            let sum = parts.withLock { p in p[index] = done; return p.reduce(0, +) }
            progress?(sum, total > 0 ? total : nil)
        }
    }
}
