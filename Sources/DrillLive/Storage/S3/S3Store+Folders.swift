import DrillCore
import Foundation

/// Backups written as several objects under a sub-prefix (a pg_basebackup in tar format: `base.tar.gz`,
/// `pg_wal.tar.gz`, `backup_manifest`): listed as folders, staged as a local folder.
extension S3Store {
    /// The sub-prefixes directly under the location, each as a folder whose time is its newest object's and whose
    /// size is the sum of its objects' (one extra listing per sub-prefix).
    public func listFolders(matching pattern: Glob?) async throws -> [BackupObject] {
        var out: [BackupObject] = []
        for prefix in try await listing(location).prefixes {
            let name = String(prefix.split(separator: "/").last ?? "")
            guard !name.isEmpty, pattern?.matches(name) ?? true else { continue }
            var sub = location
            sub.prefix = prefix
            let entries = try await listing(sub).entries
            guard !entries.isEmpty else { continue }
            out.append(BackupObject(uri: URLRedaction.redact(location.uri(key: prefix)), name: name, sizeBytes: entries.compactMap(\.size).reduce(0, +),
                                    modifiedAt: entries.compactMap(\.lastModified).max() ?? .distantPast, isDirectory: true,
                                    key: prefix))
        }
        return out
    }

    /// Stages an object, or (for a folder from `listFolders`) every object under its prefix.
    public func stage(_ object: BackupObject, into directory: String, progress: TransferProgress?) async throws -> StagedBackup {
        if object.isDirectory { return try await stageFolder(object, into: directory, progress: progress) }
        return try await stageFile(object, into: directory, progress: progress)
    }

    /// Downloads every object directly under the folder's prefix into a new local folder (a temporary the drill
    /// deletes). Its digest is computed like a local folder's: SHA-256 over `<name>\0<size>\0<sha256>\n`, by name.
    func stageFolder(_ folder: BackupObject, into directory: String, progress: TransferProgress?) async throws -> StagedBackup {
        var sub = location
        sub.prefix = folder.key.hasSuffix("/") ? folder.key : folder.key + "/"
        let page = try await listing(sub)
        if !page.prefixes.isEmpty {
            throw DrillError(.unsupported, "\(folder.uri) holds sub-folders (\(page.prefixes.count)): only flat backups (pg_basebackup -Ft) can be fetched from S3")
        }
        let local = (directory as NSString).appendingPathComponent(folder.name.isEmpty ? "backup" : folder.name)
        do {
            try FileManager.default.createDirectory(atPath: local, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw DrillError(.provisionFailed, "cannot create a staging folder \(local): \(error.localizedDescription)")
        }
        do {
            let total = page.entries.compactMap(\.size).reduce(0, +)
            var done: Int64 = 0
            var files: [(name: String, bytes: Int64, sha256: String)] = []
            for e in page.entries {
                let name = String(e.key.split(separator: "/").last ?? "")
                guard !name.isEmpty else { continue }
                let object = BackupObject(uri: URLRedaction.redact(location.uri(key: e.key)), name: name, sizeBytes: e.size,
                                          modifiedAt: e.lastModified ?? .distantPast, key: e.key)
                let base = done
                let staged = try await stageFile(object, into: local) { n, _ in progress?(base + n, total) }
                if (staged.path as NSString).lastPathComponent != name {
                    throw DrillError(.backupUnreadable, "\(folder.uri) lists \(name) twice")
                }
                done += staged.sizeBytes
                files.append((name, staged.sizeBytes, staged.sha256))
            }
            let h = SHA256Hasher()
            for f in files.sorted(by: { $0.name < $1.name }) { h.update(Data("\(f.name)\u{0}\(f.bytes)\u{0}\(f.sha256)\n".utf8)) }
            return StagedBackup(path: local, isDirectory: true, sizeBytes: done, sha256: h.finalizeHex(), isTemporary: true)
        } catch {
            try? FileManager.default.removeItem(atPath: local)
            throw error
        }
    }

    /// Every page of the listing of `loc` (objects and sub-prefixes directly under its prefix).
    private func listing(_ loc: S3Location) async throws -> ListObjectsV2Page {
        var all = ListObjectsV2Page()
        var token: String?
        repeat {
            let response = try await send(url: loc.listURL(continuation: token), limit: 32 << 20, what: "list \(loc.uri(key: loc.prefix))")
            guard response.isSuccess else { throw error(for: response, key: loc.prefix, listing: true) }
            let page: ListObjectsV2Page
            do { page = try ListObjectsV2Page.parse(response.body) } catch {
                throw DrillError(.storeUnavailable, "cannot read the listing of \(loc.uri(key: loc.prefix)): \(error)")
            }
            all.entries += page.entries
            all.prefixes += page.prefixes
            token = page.isTruncated ? page.nextContinuationToken : nil
            if page.isTruncated, token == nil {
                throw DrillError(.storeUnavailable, "the listing of \(loc.uri(key: loc.prefix)) is truncated but has no continuation token")
            }
        } while token != nil
        return all
    }
}
