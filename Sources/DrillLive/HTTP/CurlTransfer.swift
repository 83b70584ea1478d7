import CCurl
import Foundation

/// What to do with the bytes of a successful (2xx) answer.
enum BodyDisposition {
    /// Keep going.
    case more
    /// Enough was received (e.g. the first bytes of a file): end the transfer, which still counts as a success.
    case enough
    /// The consumer failed (e.g. a closed pipe): end the transfer as a failure.
    case failed
}

/// Consumes the body of a 2xx answer on the transfer thread, given the status and headers seen so far.
typealias BodyConsumer = (_ status: Int, _ headers: [String: String], _ bytes: UnsafeRawBufferPointer) -> BodyDisposition

/// The state of one `curl_easy_perform`, shared with the C callbacks through `Unmanaged` userdata. Only the transfer
/// thread touches it while the transfer runs; the awaiting task reads it afterwards.
final class CurlTransfer: @unchecked Sendable {
    static let errorBodyLimit = 64 * 1024

    let handle: UnsafeMutableRawPointer
    let consumer: BodyConsumer?
    let collectLimit: Int
    let cancelled: CancelFlag

    var status = 0
    var headers: [String: String] = [:]
    var body = Data()
    var consumerOutcome: BodyDisposition = .more
    var bytesDelivered: Int64 = 0
    /// The body of an upload (PUT) and how much of it libcurl has read.
    let upload: Data
    private var uploadOffset = 0

    init(handle: UnsafeMutableRawPointer, consumer: BodyConsumer?, collectLimit: Int, cancelled: CancelFlag,
         upload: Data = Data()) {
        self.handle = handle
        self.consumer = consumer
        self.collectLimit = collectLimit
        self.cancelled = cancelled
        self.upload = upload
    }

    /// Fills libcurl's buffer with the next bytes of the upload; 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = min(buffer.count, upload.count - uploadOffset)
        guard n > 0 else { return 0 }
        upload.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + uploadOffset, byteCount: n)
        }
        uploadOffset += n
        return n
    }

    /// A header line; a status line starts a new header block (after `100 Continue` or a redirect).
    func header(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            headers = [:]
            let parts = trimmed.split(separator: " ", maxSplits: 2)
            status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = trimmed[..<colon].lowercased()
        headers[name] = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }

    /// Body bytes. Checks the response code first: an error answer's body never reaches the consumer.
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var code = 0
        _ = drill_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        if code != 0 { status = code }
        guard (200..<300).contains(status), let consumer else {
            let room = (consumer == nil && (200..<300).contains(status) ? collectLimit : Self.errorBodyLimit) - body.count
            if room > 0 { body.append(contentsOf: bytes.prefix(room)) }
            if consumer == nil, (200..<300).contains(status), bytes.count >= room {
                consumerOutcome = .enough
                return false
            }
            return true
        }
        let outcome = consumer(status, headers, bytes)
        switch outcome {
        case .more:
            bytesDelivered += Int64(bytes.count)
            return true
        case .enough, .failed:
            consumerOutcome = outcome
            return false
        }
    }
}

/// Set from a task cancellation handler, read by the transfer's progress callback.
final class CancelFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}

// C callbacks: closures that capture nothing, with the transfer passed as userdata.

let curlWriteCallback: drill_curl_data_cb = { ptr, size, nmemb, userdata in
    guard let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let count = size * nmemb
    let bytes = UnsafeRawBufferPointer(start: ptr, count: count)
    return transfer.write(bytes) ? count : 0
}

let curlReadCallback: drill_curl_data_cb = { ptr, size, nmemb, userdata in
    guard let userdata, let ptr else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    return transfer.read(into: UnsafeMutableRawBufferPointer(start: ptr, count: size * nmemb))
}

let curlHeaderCallback: drill_curl_data_cb = { ptr, size, nmemb, userdata in
    guard let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let count = size * nmemb
    if let ptr {
        transfer.header(String(decoding: UnsafeRawBufferPointer(start: ptr, count: count), as: UTF8.self))
    }
    return count
}

let curlXferInfoCallback: drill_curl_xferinfo_cb = { clientp, _, _, _, _ in
    guard let clientp else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(clientp).takeUnretainedValue()
    return transfer.cancelled.isSet ? 1 : 0
}
