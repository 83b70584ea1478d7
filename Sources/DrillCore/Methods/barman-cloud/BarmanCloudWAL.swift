import Foundation

/// barman-cloud's WAL archive in a bucket: `<server>/wals/` holds the timeline history files, and one folder per
/// timeline and 4 GiB of WAL (`TTTTTTTTHHHHHHHH/`, like the first 16 characters of a segment name) holds segments and
/// backup history files, plain or compressed (`.gz`, `.bz2`, `.snappy`).
public enum BarmanCloudWAL {
    /// Compressions drill decompresses itself (`.gz`) and those it leaves to `barman-cloud-wal-restore`.
    public static let toolSuffixes = [".bz2", ".snappy"]

    /// Whether a `wals/` folder can hold WAL needed from `start` on: its timeline and 4 GiB range are not before the
    /// start's.
    public static func folderNeeded(_ name: String, from start: WALSegment) -> Bool {
        guard name.count == 16, let tli = UInt32(name.prefix(8), radix: 16), let hi = UInt64(name.suffix(8), radix: 16) else {
            return false
        }
        let startHi = start.number / WALSegment.segmentsPerLogID(start.segmentSize)
        return tli >= start.timeline && hi >= startHi
    }

    /// The archive's objects as a `WALArchive`: `.gz` files are decompressed by drill; `.bz2` and `.snappy` files are
    /// listed under their bare WAL name and fetched with `barman-cloud-wal-restore` (see `needsTool`).
    public static func classify(_ objects: [BackupObject], segmentSize: UInt64) -> WALArchive {
        WALArchive(objects: objects.map { o in
            var o = o
            if let suffix = toolSuffixes.first(where: { o.name.hasSuffix($0) }) { o.name = String(o.name.dropLast(suffix.count)) }
            return o
        }, segmentSize: segmentSize)
    }

    /// Whether only `barman-cloud-wal-restore` can decompress this file (its object is `.bz2` or `.snappy`).
    public static func needsTool(_ file: WALArchive.File) -> Bool {
        toolSuffixes.contains { file.object.key.hasSuffix($0) }
    }

    /// Lists what a restore from `start` can need: the history files at the top of `wals/`, and every folder at or
    /// after the start's. Only drill's own S3 client is used (no credentials reach another process).
    public static func list(_ settings: BarmanCloudSettings, from start: WALSegment, stores: any BackupStoreFactory) async throws
        -> (objects: [BackupObject], store: any BackupStore) {
        let root = try stores.store(location: settings.walPrefix, endpoint: settings.endpoint, region: settings.region)
        var objects = try await root.list(matching: nil)
        let folders = try await root.listFolders(matching: nil).filter { folderNeeded($0.name, from: start) }
        for folder in folders.sorted(by: { $0.name < $1.name }) {
            let store = try stores.store(location: settings.walPrefix + folder.name + "/", endpoint: settings.endpoint,
                                         region: settings.region)
            objects += try await store.list(matching: nil)
        }
        return (objects, root)
    }
}
