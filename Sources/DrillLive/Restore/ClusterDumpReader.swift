import DrillCore
import Foundation

/// Reads a `pg_dumpall` cluster dump once, from a descriptor (a local file, or a pipe a store or the decoders fill),
/// through `ClusterDumpSplitter`: blocking calls, made off the concurrency pool (`OffPool`) by one task at a time.
/// Holds at most one chunk (1 MiB) and the splitter's bounded state: the dump itself is never kept.
final class ClusterDumpReader: @unchecked Sendable {
    typealias Event = ClusterDumpSplitter.Event

    private let fd: Int32
    private var splitter = ClusterDumpSplitter()
    private var pending: [Event] = []
    private var next = 0
    private var atEnd = false
    private var buffer = [UInt8](repeating: 0, count: 1 << 20)

    init(fd: Int32) { self.fd = fd }

    var globalsTruncated: Bool { splitter.globalsTruncated }

    /// The next event; nil at the end of the input. Throws only when reading fails.
    func nextEvent() throws -> Event? {
        while next == pending.count {
            pending.removeAll(keepingCapacity: true)
            next = 0
            if atEnd || splitter.isComplete { return nil }
            let n = try readChunk()
            if n == 0 {
                atEnd = true
                pending = splitter.finish()
            } else {
                pending = buffer.withUnsafeBytes { splitter.feed(Data($0[0..<n])) }
            }
        }
        defer { next += 1 }
        return pending[next]
    }

    /// Writes the current database's body into `out` (nil: skips it) up to its end. Returns the bytes written;
    /// throws `DrillLiveError` when reading or writing fails (the reader of `out` went away: its own result says why).
    @discardableResult
    func copyBody(to out: Int32?) throws -> Int64 {
        var written: Int64 = 0
        while let event = try nextEvent() {
            switch event {
            case .body(let data):
                if let out, let e = data.withUnsafeBytes({ Pump.writeAll(out, $0) }) {
                    throw DrillLiveError.io("psql stopped reading the cluster dump (\(e))")
                }
                written += Int64(data.count)
            case .databaseEnd:
                return written
            default:
                // A section that never ended (not what pg_dumpall writes): the event is the caller's.
                next -= 1
                return written
            }
        }
        return written
    }

    /// Reads (and ignores) what is left, so that a producer feeding the descriptor finishes and its digest covers
    /// every byte. Returns the bytes drained.
    func drain() throws -> Int64 {
        var total: Int64 = 0
        while true {
            let n = try readChunk()
            if n == 0 { return total }
            total += Int64(n)
        }
    }

    private func readChunk() throws -> Int {
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw DrillLiveError.io("reading the cluster dump failed: \(String(cString: strerror(errno)))") }
            return n
        }
    }
}
