import DrillCore
import Foundation

/// A private (0600) file for a download, created exclusively inside the drill's staging folder.
enum StagingFile {
    /// Returns the path and an open write descriptor.
    static func create(in directory: String, name: String) throws -> (path: String, fd: Int32) {
        let safe = String(name.map { $0 == "/" || $0 == "\0" ? "_" : $0 }).trimmingCharacters(in: CharacterSet(charactersIn: "."))
        let base = safe.isEmpty ? "backup" : safe
        for n in 0..<100 {
            let file = n == 0 ? base : "\(n)-\(base)"
            let path = (directory as NSString).appendingPathComponent(file)
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if fd >= 0 { return (path, fd) }
            if errno != EEXIST {
                throw DrillError(.provisionFailed, "cannot create a staging file in \(directory): \(String(cString: strerror(errno)))")
            }
        }
        throw DrillError(.provisionFailed, "cannot create a staging file in \(directory): too many files named \(base)")
    }
}
