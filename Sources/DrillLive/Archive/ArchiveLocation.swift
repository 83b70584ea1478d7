import DrillCore
import Foundation
import Logging

/// From an `--archive` argument to the storage holding it: a local folder (`/var/lib/drill/archive`, `file:///…`)
/// or an S3 prefix (`s3://bucket/prefix/`). A new backend is one `ArchiveStorage` file plus a case here.
public enum ArchiveLocation {
    /// For `s3://`, endpoint, region and credentials come from `environment` (as for S3 backups).
    public static func storage(for location: String,
                               environment: [String: String] = ProcessInfo.processInfo.environment,
                               logger: Logger = Logger(label: "drill.archive")) throws -> any ArchiveStorage {
        if location.lowercased().hasPrefix("s3://") {
            return try S3ArchiveStorage(location: location, environment: environment, logger: logger)
        }
        if location.hasPrefix("file://") {
            guard let url = URL(string: location), url.isFileURL else { throw ArchiveError("not a file URL: \(location)") }
            return LocalArchiveStorage(root: url.path)
        }
        if let scheme = location.range(of: "://") {
            throw ArchiveError("unsupported archive location scheme \"\(location[..<scheme.lowerBound])\"")
        }
        return LocalArchiveStorage(root: location)
    }
}
