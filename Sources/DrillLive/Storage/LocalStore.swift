import DrillCore
import Foundation
import Synchronization

/// Backups in a local folder (a path or a `file://` URL). The latest is the newest by modification time.
/// Backups are restored in place: nothing is copied.
public struct LocalStore: BackupStore {
    public let directory: String

    public init(location: String) {
        var path = location
        if path.hasPrefix("file://") { path = String(path.dropFirst("file://".count)) }
        path = path.removingPercentEncoding ?? path
        directory = (path as NSString).expandingTildeInPath
    }

    public func list(matching pattern: Glob?) async throws -> [BackupObject] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDir) else {
            throw DrillError(.backupNotFound, "backup folder \(directory) does not exist")
        }
        guard isDir.boolValue else {
            throw DrillError(.backupNotFound, "backup.location \(directory) is not a folder")
        }
        let names: [String]
        do {
            names = try fm.contentsOfDirectory(atPath: directory)
        } catch {
            throw DrillError(.backupUnreadable, "cannot list \(directory): permission denied or unreadable")
        }
        var out: [BackupObject] = []
        for name in names where !name.hasPrefix(".") && (pattern?.matches(name) ?? true) {
            let path = (directory as NSString).appendingPathComponent(name)
            // Symbolic links are followed (a `latest.dump` link is a common convention); dangling ones are skipped.
            let target = (path as NSString).resolvingSymlinksInPath
            guard let attrs = try? fm.attributesOfItem(atPath: target) else { continue }
            let type = attrs[.type] as? FileAttributeType
            let isDirectory = type == .typeDirectory
            guard isDirectory || type == .typeRegular else { continue }
            out.append(BackupObject(uri: path, name: name, sizeBytes: isDirectory ? nil : (attrs[.size] as? NSNumber)?.int64Value,
                                    modifiedAt: attrs[.modificationDate] as? Date ?? .distantPast,
                                    isDirectory: isDirectory, localPath: path))
        }
        return out
    }

    public func head(_ object: BackupObject, count: Int) async throws -> [UInt8] {
        guard let fh = FileHandle(forReadingAtPath: object.localPath ?? object.key) else {
            throw DrillError(.backupUnreadable, "cannot read \(object.uri)")
        }
        defer { try? fh.close() }
        return [UInt8]((try? fh.read(upToCount: count)) ?? Data())
    }

    /// Hashes the backup in place (a folder: its file list and file digests) and returns its own path.
    public func stage(_ object: BackupObject, into directory: String, progress: TransferProgress?) async throws -> StagedBackup {
        let path = object.localPath ?? object.key
        do {
            if object.isDirectory {
                let (digest, bytes) = try Self.treeDigest(path)
                return StagedBackup(path: path, isDirectory: true, sizeBytes: bytes, sha256: digest, isTemporary: false)
            }
            let (digest, bytes) = try SHA256Hasher.hex(ofFile: path)
            return StagedBackup(path: path, isDirectory: false, sizeBytes: bytes, sha256: digest, isTemporary: false)
        } catch let e as DrillError {
            throw e
        } catch {
            throw DrillError(.backupUnreadable, "cannot read \(object.uri): \(error)")
        }
    }

    /// Copies the file into `sink` (a pipe to a decoder or a restore tool) on a thread of its own: a pipe's reader can
    /// take its time, and a write blocked on it must not hold one of the few threads of Swift's cooperative pool (with
    /// the decoders' readers waiting for one, that deadlocked).
    public func stream(_ object: BackupObject, to sink: FileHandle, progress: TransferProgress?) async throws -> StreamReceipt {
        let path = object.localPath ?? object.key, uri = object.uri, size = object.sizeBytes
        let cancelled = Atomic<Bool>(false)
        return try await withTaskCancellationHandler {
            try await OffPool.run {
                guard let fh = FileHandle(forReadingAtPath: path) else {
                    throw DrillError(.backupUnreadable, "cannot read \(uri)")
                }
                defer { try? fh.close() }
                let h = SHA256Hasher()
                var total: Int64 = 0
                while let chunk = try fh.read(upToCount: 1 << 20), !chunk.isEmpty {
                    if cancelled.load(ordering: .relaxed) { throw CancellationError() }
                    h.update(chunk)
                    try sink.write(contentsOf: chunk)
                    total += Int64(chunk.count)
                    progress?(total, size)
                }
                return StreamReceipt(bytes: total, sha256: h.finalizeHex())
            }
        } onCancel: {
            cancelled.store(true, ordering: .relaxed)
        }
    }

    public func sidecarDigest(for object: BackupObject) async throws -> String? {
        let path = (object.localPath ?? object.key) + ".sha256"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        guard let digest = parseSHA256Sidecar(String(decoding: data, as: UTF8.self)) else {
            throw DrillError(.digestMismatch, "\(path) is not in sha256sum format")
        }
        return digest
    }

    /// Digest of a folder: SHA-256 over `<relative path>\0<size>\0<file sha256>\n` for each file, sorted by path.
    static func treeDigest(_ root: String) throws -> (String, Int64) {
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: root) else { throw DrillError(.backupUnreadable, "cannot list \(root)") }
        var files: [String] = []
        while let rel = e.nextObject() as? String {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: (root as NSString).appendingPathComponent(rel), isDirectory: &isDir), !isDir.boolValue {
                files.append(rel)
            }
        }
        let h = SHA256Hasher()
        var total: Int64 = 0
        for rel in files.sorted() {
            let (d, n) = try SHA256Hasher.hex(ofFile: (root as NSString).appendingPathComponent(rel))
            total += n
            h.update(Data("\(rel)\u{0}\(n)\u{0}\(d)\n".utf8))
        }
        return (h.finalizeHex(), total)
    }
}
