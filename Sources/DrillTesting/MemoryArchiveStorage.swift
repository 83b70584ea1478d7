import DrillCore
import Foundation

/// An in-memory `ArchiveStorage` for tests. Tests may tamper with `files` directly.
public actor MemoryArchiveStorage: ArchiveStorage {
    public var files: [String: Data] = [:]
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

    public nonisolated var location: String { "memory" }

    public func list() async throws -> [String] { files.keys.sorted() }

    public func read(_ path: String) async throws -> Data {
        guard let d = files[path] else { throw ArchiveError("no such file \(path)") }
        return d
    }

    public func create(_ path: String, data: Data) async throws {
        guard files[path] == nil else { throw ArchiveError("\(path) already exists") }
        files[path] = data
    }

    public func remove(_ path: String) async throws { files[path] = nil }

    public func set(_ path: String, _ data: Data?) { files[path] = data }

    public func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        while locked { await withCheckedContinuation { waiters.append($0) } }
        locked = true
        defer {
            locked = false
            if !waiters.isEmpty { waiters.removeFirst().resume() }
        }
        return try await body()
    }
}
