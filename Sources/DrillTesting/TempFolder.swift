import Foundation

/// A private temporary folder for one test, under /tmp (short paths keep unix sockets under their length limit).
/// It is world-traversable so an unprivileged scratch server can reach folders created inside it.
public final class TempFolder: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "t") {
        var template = Array("/tmp/drill-test-\(label.prefix(12))-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }!
        path = String(cString: p)
        chmod(path, 0o755)
    }

    public func sub(_ name: String) -> String {
        let p = (path as NSString).appendingPathComponent(name)
        try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        chmod(p, 0o755)
        return p
    }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Names directly inside the folder.
    public func entries(_ sub: String? = nil) -> [String] {
        let dir = sub.map { (path as NSString).appendingPathComponent($0) } ?? path
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }

    deinit { remove() }
}
