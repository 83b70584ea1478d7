import DrillCore
import Foundation

/// This host's free disk under a folder (`statvfs`, what an unprivileged user may use) and available memory
/// (`MemAvailable` in /proc/meminfo), for `ResourceGate`.
public enum HostResources {
    public static func capacity(under folder: String) -> HostCapacity {
        HostCapacity(freeDiskBytes: freeDisk(under: folder), availableMemoryBytes: availableMemory())
    }

    /// The gate for drills under `scratchRoot`; nil when `DRILL_RESOURCE_CHECK=off`.
    public static func gate(scratchRoot: String, environment: [String: String]) -> ResourceGate? {
        if environment["DRILL_RESOURCE_CHECK"] == "off" { return nil }
        return ResourceGate(scratchRoot: scratchRoot) { capacity(under: scratchRoot) }
    }

    static func freeDisk(under folder: String) -> Int64 {
        var dir = folder
        // The scratch root may not exist yet: ask the nearest folder that does.
        while !FileManager.default.fileExists(atPath: dir), dir != "/", !dir.isEmpty { dir = (dir as NSString).deletingLastPathComponent }
        var st = statvfs()
        guard statvfs(dir.isEmpty ? "/" : dir, &st) == 0 else { return Int64.max }
        return Int64(st.f_bavail) * Int64(st.f_frsize)
    }

    static func availableMemory() -> Int64 {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return Int64.max }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let kb = line.split(separator: " ").dropFirst().first.flatMap { Int64($0) }
            if let kb { return kb * 1024 }
        }
        return Int64.max
    }
}
