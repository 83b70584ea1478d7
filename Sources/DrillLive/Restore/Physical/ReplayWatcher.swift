import DrillCore
import Foundation

/// Reports how far WAL replay is while the server recovers (it accepts no connection until promoted): it reads the
/// markers of drill's waiting `restore_command` in the private WAL folder, `.announced` (every file replay will get)
/// and `.served/` (what the server has taken), and reports the `ReplayPosition` whenever it moves, and once more when
/// recovery ends.
struct ReplayWatcher: Sendable {
    let walDirectory: String
    let segmentSize: UInt64
    let report: TransferProgress?
    var interval: Duration = .milliseconds(250)

    /// Runs `body` (the recovery) while watching; without `report`, only runs it.
    func watch<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        guard let report else { return try await body() }
        let watcher = Task {
            var last: ReplayPosition?
            var announced: [String]?
            while !Task.isCancelled {
                // `.announced` is written once, before the first file is fetched.
                if announced == nil { announced = self.announced() }
                if let announced, let p = position(announced), p != last {
                    report(p.done, p.total)
                    last = p
                }
                try? await Task.sleep(for: interval)
            }
        }
        defer { watcher.cancel() }
        let value = try await body()
        watcher.cancel()
        _ = await watcher.value
        if let announced = announced(), let p = position(announced) { report(p.done, p.total) }
        return value
    }

    /// The files the prefetcher announced; nil before it did (or without one).
    func announced() -> [String]? {
        FileManager.default.contents(atPath: (walDirectory as NSString).appendingPathComponent(".announced"))
            .map { String(decoding: $0, as: UTF8.self).split(separator: "\n").map(String.init) }
    }

    /// The position now; nil when no segment was announced.
    func position(_ announced: [String]) -> ReplayPosition? {
        let fm = FileManager.default
        let served = Set((try? fm.contentsOfDirectory(atPath: (walDirectory as NSString).appendingPathComponent(".served"))) ?? [])
        return ReplayPosition.of(announced: announced, served: served, segmentSize: segmentSize)
    }
}
