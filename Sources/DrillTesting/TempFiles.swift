import Foundation

/// Temporary folders and files for tests.
public enum TempFiles {
    /// A new private folder under the system temp folder, removed when the test process exits.
    public static func directory(_ hint: String = "drill-test") throws -> String {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(hint)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        ExitCleanup.register(pid: nil, paths: [path])
        return path
    }

    /// Writes `size` random bytes to `path` and returns them.
    @discardableResult
    public static func random(_ path: String, size: Int) throws -> Data {
        let urandom = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
        defer { try? urandom.close() }
        let data = try urandom.read(upToCount: size) ?? Data()
        try data.write(to: URL(fileURLWithPath: path))
        return data
    }

    /// Reads everything from a pipe's read end on a separate thread; `value` waits for the end of the data.
    public final class Drain: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        public init(_ handle: FileHandle) {
            Thread {
                self.data = handle.readDataToEndOfFile()
                self.done.signal()
            }.start()
        }

        public func value() -> Data {
            done.wait()
            return data
        }
    }
}
