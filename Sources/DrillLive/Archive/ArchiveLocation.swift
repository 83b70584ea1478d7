import DrillCore
import Foundation

/// From an `--archive` argument to the storage holding it: a local folder (`/var/lib/drill/archive`, `file:///…`)
/// or, once the S3 client lands, `s3://bucket/prefix/`. A new backend is one `ArchiveStorage` file plus a case here.
public enum ArchiveLocation {
    public static func storage(for location: String) throws -> any ArchiveStorage {
        if location.hasPrefix("s3://") {
            throw ArchiveError("archives on S3 (\(location)) are not supported by this build yet; use a local folder")
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
