import DrillCore
import Foundation

/// Receives a download's bytes on the transfer thread: hashes them and writes them to a file descriptor (a staged
/// file or a pipe) as they arrive, so memory stays flat whatever the size. Across a resumed transfer the hash runs on
/// and no byte is written twice.
///
/// A sink for one chunk of a ranged download (`init(chunk:…)`) takes only the bytes of its range, into the chunk's
/// buffer, and hashes nothing: the writer hashes the chunks in order (`RangedDownload`).
final class DownloadSink: @unchecked Sendable {
    private enum Output {
        case fd(Int32)
        case chunk(ChunkBuffer)
    }

    private let output: Output
    private let hasher: SHA256Hasher?
    private let progress: TransferProgress?
    private var lastReported: Int64 = 0
    /// The first byte of the object this sink receives (0, or a chunk's start).
    private let base: Int64
    /// The bytes this sink takes (a chunk's length); nil: up to the end of the object.
    private let length: Int64?

    /// Bytes written so far: the offset (from `base`) a resumed request starts from.
    private(set) var written: Int64 = 0
    /// The object's total size, once an answer told it.
    var total: Int64?
    /// The entity tag of the first answer, to make a resumed request conditional on the same object.
    private(set) var entityTag: String?
    private(set) var writeError: Int32 = 0
    /// Why the bytes of an answer were refused (a resumed answer for the wrong range), for the error message.
    private(set) var mismatch: String?

    private var attemptStarted = false
    private var skip: Int64 = 0

    init(fd: Int32, expectedSize: Int64?, progress: TransferProgress?) {
        output = .fd(fd)
        hasher = SHA256Hasher()
        self.progress = progress
        total = expectedSize
        base = 0
        length = nil
    }

    /// The sink of one chunk: bytes `start ..< start + length` of an object of `objectSize` bytes, conditional on
    /// `entityTag` when the object's tag is already known.
    init(chunk: ChunkBuffer, start: Int64, length: Int64, objectSize: Int64, entityTag: String?) {
        output = .chunk(chunk)
        hasher = nil
        progress = nil
        total = objectSize
        base = start
        self.length = length
        self.entityTag = entityTag
    }

    /// The bytes this sink still expects in all (nil: unknown until an answer tells the size).
    var expected: Int64? { length ?? total }

    /// The `Range` header of the next request: the rest of the chunk, or of the object after a dropped connection.
    var range: String? {
        if let length { return "bytes=\(base + written)-\(base + length - 1)" }
        return written > 0 ? "bytes=\(written)-" : nil
    }

    /// Called before each request.
    func beginAttempt() {
        attemptStarted = false
        skip = 0
    }

    func consume(status: Int, headers: [String: String], bytes: UnsafeRawBufferPointer) -> BodyDisposition {
        if !attemptStarted {
            attemptStarted = true
            if let disposition = startAttempt(status: status, headers: headers) { return disposition }
        }
        var chunk = bytes
        if skip > 0 {
            let n = Int(min(skip, Int64(chunk.count)))
            skip -= Int64(n)
            chunk = UnsafeRawBufferPointer(rebasing: chunk[n...])
            if chunk.isEmpty { return .more }
        }
        var full = false
        if let length, Int64(chunk.count) >= length - written {
            // A server that ignored the Range header sends the rest of the object: the chunk ends here.
            chunk = UnsafeRawBufferPointer(rebasing: chunk[..<Int(length - written)])
            full = true
        }
        hasher?.update(chunk)
        guard put(chunk) else { return .failed }
        written += Int64(chunk.count)
        if let progress, written - lastReported >= 1 << 20 || written == total {
            lastReported = written
            progress(written, total)
        }
        return full ? .enough : .more
    }

    /// Checks that an answer continues where the last one stopped (or, for a chunk, starts where the chunk does).
    private func startAttempt(status: Int, headers: [String: String]) -> BodyDisposition? {
        let response = HTTPResponse(status: status, headers: headers, body: Data())
        if length != nil, let size = response.totalSize, let total, size != total {
            mismatch = "the object's size changed from \(total) to \(size) bytes during the download"
            return .failed
        }
        if written == 0, length == nil, let size = response.totalSize { total = size }  // the object as it is now, not as listed
        if entityTag == nil, written == 0 { entityTag = headers["etag"] }
        let offset = base + written
        if offset > 0 {
            if status == 206 {
                let start = headers["content-range"].flatMap(Self.rangeStart)
                if start != offset {
                    mismatch = "a request for bytes from \(offset) got \(headers["content-range"] ?? "no Content-Range")"
                    return .failed
                }
            } else {
                // The server ignored the Range header and sends everything again: drop what comes before the offset.
                if let size = response.totalSize, let total, size != total {
                    mismatch = "the object's size changed from \(total) to \(size) bytes during the download"
                    return .failed
                }
                skip = offset
            }
        }
        return nil
    }

    static func rangeStart(_ contentRange: String) -> Int64? {
        guard let r = contentRange.range(of: "bytes ") else { return nil }
        return Int64(contentRange[r.upperBound...].prefix { $0.isNumber })
    }

    private func put(_ bytes: UnsafeRawBufferPointer) -> Bool {
        switch output {
        case .fd(let fd):
            return writeAll(fd, bytes)
        case .chunk(let buffer):
            guard buffer.append(bytes) else {
                writeError = ECANCELED
                return false
            }
            return true
        }
    }

    private func writeAll(_ fd: Int32, _ chunk: UnsafeRawBufferPointer) -> Bool {
        guard var p = chunk.baseAddress else { return true }
        var left = chunk.count
        while left > 0 {
            let n = Foundation.write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                writeError = errno
                return false
            }
            p += n
            left -= n
        }
        return true
    }

    /// The hex digest of everything written (empty for a chunk). Call once, at the end.
    func finish() -> String {
        if let progress, written != lastReported { progress(written, total) }
        return hasher?.finalizeHex() ?? ""
    }
}
