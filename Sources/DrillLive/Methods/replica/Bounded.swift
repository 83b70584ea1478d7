import Foundation
import Synchronization

/// Waits that end on time whatever the server does: the caller gets its answer or a timeout when the limit passes,
/// even while a blocking libpq call is still running (it is cancelled with `PQcancel` and left to finish on its own
/// thread). `statement_timeout` alone does not end every wait (a commit waiting in SyncRep ignores it).
enum Bounded {
    struct Timeout: Error {}

    /// Runs `body` in its own task; after `limit` the caller gets `Timeout` and the task is cancelled (off the
    /// cooperative pool: a cancel may block on the network).
    static func run<T: Sendable>(within limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let work = Task { try await body() }
        let gate = Gate<T>()
        let timer = Task {
            try? await Task.sleep(for: limit)
            if !Task.isCancelled, gate.resume(.failure(Timeout())) { cancelOffPool(work) }
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (k: CheckedContinuation<T, any Error>) in
                gate.attach(k)
                Task {
                    let result = await work.result
                    timer.cancel()
                    _ = gate.resume(result)
                }
            }
        } onCancel: {
            timer.cancel()
            if gate.resume(.failure(CancellationError())) { cancelOffPool(work) }
        }
    }

    /// Runs a blocking call on a thread of its own; after `limit` the caller gets `Timeout`, and `abandon` receives
    /// the value if it arrives later (to close a connection nobody waits for any more).
    static func blocking<T: Sendable>(within limit: Duration, _ body: @escaping @Sendable () throws -> T,
                                      abandon: @escaping @Sendable (T) -> Void) async throws -> T {
        let gate = Gate<T>()
        return try await withCheckedThrowingContinuation { (k: CheckedContinuation<T, any Error>) in
            gate.attach(k)
            DispatchQueue.global().async {
                let result = Result { try body() }
                if !gate.resume(result), case .success(let v) = result { abandon(v) }
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds(limit)) { _ = gate.resume(.failure(Timeout())) }
        }
    }

    private static func cancelOffPool<T>(_ task: Task<T, any Error>) {
        DispatchQueue.global().async { task.cancel() }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// A continuation resumed exactly once, by whichever of its resumers comes first (even before it is attached).
final class Gate<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var pending: Result<T, any Error>?
        var done = false
    }
    private let state = Mutex(State())

    func attach(_ k: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { s in
            if let p = s.pending {
                s.pending = nil
                return p
            }
            s.continuation = k
            return nil
        }
        if let early { k.resume(with: early) }
    }

    /// Whether this call was the one that resumed.
    @discardableResult
    func resume(_ result: Result<T, any Error>) -> Bool {
        let (won, k): (Bool, CheckedContinuation<T, any Error>?) = state.withLock { s in
            guard !s.done else { return (false, nil) }
            s.done = true
            if let k = s.continuation {
                s.continuation = nil
                return (true, k)
            }
            s.pending = result
            return (true, nil)
        }
        k?.resume(with: result)
        return won
    }
}
