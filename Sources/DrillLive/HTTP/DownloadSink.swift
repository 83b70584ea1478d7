import DrillCore
import Foundation

/// Receives a download's bytes on the transfer thread: hashes them and writes them to a file descriptor (a staged
/// file or a pipe) as they arrive, so memory stays flat whatever the size. Across a resumed transfer the hash runs on
/// and no byte is written twice.
final class DownloadSink: @unchecked Sendable {
    private let fd: Int32
    private let hasher = SHA256Hasher()
    private let progress: TransferProgress?
    private var lastReported: Int64 = 0

    /// Bytes written so far: the offset a resumed request starts from.
    private(set) var written: Int64 = 0
    /// The total size, once an answer told it.
    var total: Int64?
    /// The entity tag of the first answer, to make a resumed request conditional on the same object.
    private(set) var entityTag: String?
    private(set) var writeError: Int32 = 0
    /// Why the bytes of an answer were refused (a resumed answer for the wrong range), for the error message.
    private(set) var mismatch: String?

    private var attemptStarted = false
    private var skip: Int64 = 0

    init(fd: Int32, expectedSize: Int64?, progress: TransferProgress?) {
        self.fd = fd
        self.total = expectedSize
        self.progress = progress
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
        hasher.update(chunk)
        guard writeAll(chunk) else { return .failed }
        written += Int64(chunk.count)
        if written - lastReported >= 1 << 20 || written == total {
            lastReported = written
            progress?(written, total)
        }
        return .more
    }

    /// Checks that an answer continues where the last one stopped.
    private func startAttempt(status: Int, headers: [String: String]) -> BodyDisposition? {
        let response = HTTPResponse(status: status, headers: headers, body: Data())
        if written == 0, let size = response.totalSize { total = size }  // the object as it is now, not as listed
        if entityTag == nil, written == 0 { entityTag = headers["etag"] }
        if written > 0 {
            if status == 206 {
                let start = headers["content-range"].flatMap(Self.rangeStart)
                if start != written {
                    mismatch = "a resumed request for bytes from \(written) got \(headers["content-range"] ?? "no Content-Range")"
                    return .failed
                }
            } else {
                // The server ignored the Range header and sends everything again: drop what is already written.
                if let size = response.totalSize, let total, size != total {
                    mismatch = "the object's size changed from \(total) to \(size) bytes during the download"
                    return .failed
                }
                skip = written
            }
        }
        return nil
    }

    static func rangeStart(_ contentRange: String) -> Int64? {
        guard let r = contentRange.range(of: "bytes ") else { return nil }
        return Int64(contentRange[r.upperBound...].prefix { $0.isNumber })
    }

    private func writeAll(_ chunk: UnsafeRawBufferPointer) -> Bool {
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

    /// The hex digest of everything written. Call once, at the end.
    func finish() -> String {
        if written != lastReported { progress?(written, total) }
        return hasher.finalizeHex()
    }
}
