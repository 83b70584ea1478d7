import DrillCore
import Foundation

/// The chunks of a ranged download between the connections that fill them, in any order, and the one writer that
/// empties them in order. At most `slots` chunks hold memory at once (`ChunkPlan.mayStart`): a connection asks for
/// its chunk's buffer with `acquire` and waits while the window is full; the writer gives a chunk's buffer back as
/// soon as its last byte is written. The chunk being written is emptied as it fills, so a slow chunk delays the
/// output by no more than its own bytes.
///
/// Buffers are mapped with `mmap` once per slot and reused, so memory stays at `slots × chunkBytes` however large
/// the object (malloc's arenas would keep freed chunks resident).
final class ChunkWindow: @unchecked Sendable {
    let plan: ChunkPlan
    let slots: Int
    private let condition = NSCondition()
    private var head = 0
    private var buffers: [Int: ChunkBuffer] = [:]
    private var pool: [UnsafeMutableRawPointer] = []
    private var mapped: [UnsafeMutableRawPointer] = []
    private var waiters: [(index: Int, continuation: CheckedContinuation<ChunkBuffer, any Error>)] = []
    private var failure: (any Error)?
    /// The most buffers mapped at once, for tests and measurements.
    private(set) var peakSlots = 0

    init(plan: ChunkPlan, slots: Int) {
        self.plan = plan
        self.slots = max(1, min(slots, max(plan.count, 1)))
    }

    deinit {
        for p in mapped { munmap(p, Int(plan.chunkBytes)) }
    }

    /// The first error that ended the download (a chunk that could not be fetched, a write that failed).
    var firstFailure: (any Error)? { condition.withLock { failure } }

    /// The buffer of chunk `index`, once the window lets it start. Throws when the download has failed.
    func acquire(_ index: Int) async throws -> ChunkBuffer {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (k: CheckedContinuation<ChunkBuffer, any Error>) in
                condition.withLock {
                    if let failure {
                        k.resume(throwing: failure)
                    } else if ChunkPlan.mayStart(index, head: head, slots: slots) {
                        do { k.resume(returning: try makeBuffer(index)) } catch { k.resume(throwing: error) }
                    } else {
                        waiters.append((index, k))
                    }
                }
            }
        } onCancel: {
            abort(CancellationError())
        }
    }

    /// Ends the download: the writer stops, waiting connections are woken with `error` (the first one is kept).
    func abort(_ error: any Error) {
        condition.withLock {
            if failure == nil { failure = error }
            let woken = waiters
            waiters = []
            for w in woken { w.continuation.resume(throwing: failure!) }
            condition.broadcast()
        }
    }

    /// Writes every chunk in order through `write` (which returns false when the output failed, having aborted the
    /// window with its reason). Blocks: run it on a thread of its own. Returns false when the download failed.
    func drain(_ write: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        var index = 0
        var consumed = 0
        while index < plan.count {
            condition.lock()
            while failure == nil, (buffers[index]?.filled ?? 0) <= consumed { condition.wait() }
            guard failure == nil, let buffer = buffers[index] else {
                condition.unlock()
                return false
            }
            let upTo = buffer.filled
            condition.unlock()
            // The bytes below `filled` no longer change: written without the lock.
            guard write(UnsafeRawBufferPointer(start: buffer.memory + consumed, count: upTo - consumed)) else { return false }
            consumed = upTo
            if consumed == buffer.length {
                condition.withLock { release(index) }
                index += 1
                consumed = 0
            }
        }
        return true
    }

    /// Called with the lock held: chunk `index` is written; its memory goes back to the pool and the chunks now
    /// inside the window may start.
    private func release(_ index: Int) {
        if let buffer = buffers.removeValue(forKey: index) { pool.append(buffer.memory) }
        head = index + 1
        var still: [(index: Int, continuation: CheckedContinuation<ChunkBuffer, any Error>)] = []
        for w in waiters {
            if ChunkPlan.mayStart(w.index, head: head, slots: slots) {
                do { w.continuation.resume(returning: try makeBuffer(w.index)) } catch { w.continuation.resume(throwing: error) }
            } else {
                still.append(w)
            }
        }
        waiters = still
    }

    /// Called with the lock held.
    private func makeBuffer(_ index: Int) throws -> ChunkBuffer {
        let memory: UnsafeMutableRawPointer
        if let reused = pool.popLast() {
            memory = reused
        } else {
            guard let p = mmap(nil, Int(plan.chunkBytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                  p != MAP_FAILED else {
                throw DrillLiveError.io("cannot map \(plan.chunkBytes) bytes for a download chunk: \(String(cString: strerror(errno)))")
            }
            mapped.append(p)
            peakSlots = max(peakSlots, mapped.count)
            memory = p
        }
        let buffer = ChunkBuffer(window: self, memory: memory, length: Int(plan.range(index).length))
        buffers[index] = buffer
        return buffer
    }

    /// Called by a chunk's buffer: `bytes` go after what it holds. False when the download has failed.
    fileprivate func append(_ bytes: UnsafeRawBufferPointer, to buffer: ChunkBuffer) -> Bool {
        condition.withLock {
            guard failure == nil else { return false }
            let n = min(bytes.count, buffer.length - buffer.filled)
            if n > 0, let src = bytes.baseAddress {
                (buffer.memory + buffer.filled).copyMemory(from: src, byteCount: n)
                buffer.filled += n
                condition.broadcast()
            }
            return true
        }
    }
}

/// The memory of one chunk in a `ChunkWindow`, filled from its start by one connection. Its state is guarded by the
/// window's lock.
final class ChunkBuffer: @unchecked Sendable {
    private unowned let window: ChunkWindow
    let memory: UnsafeMutableRawPointer
    let length: Int
    fileprivate(set) var filled = 0

    fileprivate init(window: ChunkWindow, memory: UnsafeMutableRawPointer, length: Int) {
        self.window = window
        self.memory = memory
        self.length = length
    }

    /// Appends the next bytes of the chunk (never past its length). False when the download has failed.
    func append(_ bytes: UnsafeRawBufferPointer) -> Bool { window.append(bytes, to: self) }
}
