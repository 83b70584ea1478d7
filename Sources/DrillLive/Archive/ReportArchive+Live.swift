import DrillCore
import Foundation

extension ReportArchive {
    /// The archive with the live SHA-256 (OpenSSL).
    public init(storage: any ArchiveStorage) {
        self.init(storage: storage, digest: { SHA256Hasher.hex(of: $0) })
    }
}
