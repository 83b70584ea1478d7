import DrillCore
import Foundation
import Logging

/// The writers' lock of an S3 archive: an object `<prefix>.lock` created with `If-None-Match: *` and deleted afterwards.
extension S3ArchiveStorage {
    /// The lock's key: `.lock` under the prefix, as in a local archive (list() leaves it out).
    public var lockKey: String { store.location.prefix + ".lock" }

    public func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        let token = try await acquireLock()
        let result: T
        do {
            result = try await body()
        } catch {
            await releaseLock(token: token)
            throw error
        }
        await releaseLock(token: token)
        return result
    }

    /// What a lock object says: who holds it, for the messages of the writers waiting for it. Never a secret.
    static func lockText(token: String, acquiredAt: Date) -> String {
        let host = ProcessInfo.processInfo.hostName
        return "drill archive lock\nholder: \(host) pid \(getpid())\nacquired: \(RFC3339.format(acquiredAt))\ntoken: \(token)\n"
    }

    /// Creates the lock object, waiting with backoff (250 ms doubling to 5 s) while another writer holds it, for at
    /// most `lockWait`. A lock older than `staleAfter` by S3's own clock (`Date` minus `Last-Modified` of the same
    /// answer, so the local clock's skew does not matter) is deleted and logged as broken. Returns the token written.
    func acquireLock() async throws -> String {
        let token = UUID().uuidString
        let uri = store.location.uri(key: lockKey)
        let clock = ContinuousClock()
        let deadline = clock.now + lockWait
        var attempt = 0
        var holder = "unknown"
        var since: Date?
        while true {
            try Task.checkCancellation()
            attempt += 1
            let text = Self.lockText(token: token, acquiredAt: now())
            if try await putIfAbsent(key: lockKey, data: Data(text.utf8)) == .created {
                // Read it back: on a server whose conditional write is not atomic, a racing writer may have replaced it.
                // On S3 the created PUT is the proof; a read-back that fails does not make the lock any less ours.
                let readBack: LockObject?
                do { readBack = try await lockObject() } catch { return token }
                if let mine = readBack, mine.text.contains("token: \(token)") { return token }
                store.logger.warning("the archive lock was replaced or removed right after it was taken; waiting",
                                     metadata: ["lock": "\(uri)", "holder": "\(readBack?.holder ?? "none")"])
            } else if let current = try await lockObject() {
                holder = current.holder
                since = current.lastModified
                if let age = current.age, age > staleAfter {
                    store.logger.warning("breaking a stale archive lock", metadata: [
                        "lock": "\(uri)", "holder": "\(holder)", "age": "\(age)",
                        "since": "\(current.lastModified.map { RFC3339.format($0) } ?? "unknown")",
                    ])
                    try await delete(key: lockKey)
                    continue
                }
            }  // else released between our PUT and our GET: try again after the pause
            guard clock.now < deadline else {
                let at = since.map { " since \(RFC3339.format($0))" } ?? ""
                throw ArchiveError("the archive lock \(uri) is held\(at) by \(holder); gave up after \(lockWait). If no drill "
                    + "is writing to the archive, delete it; it is broken automatically once older than \(staleAfter)")
            }
            let pause = min(Duration.milliseconds(250) * Double(1 << min(attempt - 1, 5)), .seconds(5))
            try await Task.sleep(for: pause * Double.random(in: 0.75...1.25))
        }
    }

    /// Deletes the lock if it is still ours. Runs detached so that a cancelled run still releases it; a failure is
    /// logged (the lock is then broken once stale), not thrown over the body's outcome.
    func releaseLock(token: String) async {
        let storage = self
        await Task.detached {
            let uri = storage.store.location.uri(key: storage.lockKey)
            do {
                guard let current = try await storage.lockObject() else {
                    storage.store.logger.warning("the archive lock was already gone at release", metadata: ["lock": "\(uri)"])
                    return
                }
                guard current.text.contains("token: \(token)") else {
                    storage.store.logger.warning("the archive lock was taken over (broken as stale?); not deleting it",
                                                 metadata: ["lock": "\(uri)", "holder": "\(current.holder)"])
                    return
                }
                try await storage.delete(key: storage.lockKey)
            } catch {
                storage.store.logger.error("cannot release the archive lock; it will be broken once stale",
                                           metadata: ["lock": "\(uri)", "error": "\(error)"])
            }
        }.value
    }

    struct LockObject {
        var text: String
        var lastModified: Date?
        /// By S3's clock: the answer's `Date` minus `Last-Modified` (the local clock when there is no `Date`).
        var age: Duration?

        var holder: String {
            text.split(separator: "\n").first { $0.hasPrefix("holder: ") }.map { String($0.dropFirst("holder: ".count)) }
                ?? "an unknown writer"
        }
    }

    /// The current lock object, or nil when there is none.
    func lockObject() async throws -> LockObject? {
        let response = try await store.send(url: store.location.objectURL(key: lockKey), limit: 64 * 1024,
                                            what: "read \(store.location.uri(key: lockKey))")
        if response.status == 404 { return nil }
        guard response.isSuccess else { throw store.error(for: response, key: lockKey) }
        let modified = response.lastModified
        let serverNow = response.headers["date"].flatMap(HTTPDate.parse) ?? now()
        let age = modified.map { Duration.milliseconds(Int64(serverNow.timeIntervalSince($0) * 1000)) }
        return LockObject(text: String(decoding: response.body, as: UTF8.self), lastModified: modified, age: age)
    }
}
