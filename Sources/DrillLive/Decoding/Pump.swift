import Foundation

/// Blocking reads and writes between descriptors, each on a thread of its own (off the concurrency pool): the plumbing
/// between a backup's bytes, the decoders and the restore tool. Nothing here touches the disk but the backup itself.
enum Pump {
    struct Copied: Sendable {
        var bytes: Int64 = 0
        /// Reading failed (not end-of-file).
        var readError: String?
        /// The reader on the other side went away (EPIPE and the like).
        var writeError: String?
    }

    /// Reads up to `count` bytes (fewer only at end-of-file).
    static func head(_ fd: Int32, count: Int) async -> [UInt8] {
        await onThread {
            var out = [UInt8](repeating: 0, count: count)
            var got = 0
            while got < count {
                let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, count - got) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                got += n
            }
            return Array(out[0..<got])
        }
    }

    /// Writes `prefix`, then copies `from` until end-of-file into `to`, hashing what is read when `hasher` is given.
    static func copy(prefix: [UInt8] = [], from: Int32, to: Int32, hasher: SHA256Hasher? = nil) async -> Copied {
        await onThread {
            var c = Copied()
            if !prefix.isEmpty, let e = writeAll(to, prefix[...]) {
                c.writeError = e
                return c
            }
            var buf = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = buf.withUnsafeMutableBytes { read(from, $0.baseAddress, 1 << 20) }
                if n < 0 && errno == EINTR { continue }
                if n < 0 { c.readError = String(cString: strerror(errno)); break }
                if n == 0 { break }
                buf.withUnsafeBytes { hasher?.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                c.bytes += Int64(n)
                if let e = writeAll(to, buf[0..<n]) {
                    c.writeError = e
                    break
                }
            }
            return c
        }
    }

    static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> String? {
        bytes.withUnsafeBytes { writeAll(fd, $0) }
    }

    /// Writes every byte of `buf` to `fd` (retrying interrupted and short writes); the error text, or nil.
    static func writeAll(_ fd: Int32, _ buf: UnsafeRawBufferPointer) -> String? {
        var off = 0
        while off < buf.count {
            let n = write(fd, buf.baseAddress! + off, buf.count - off)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return String(cString: strerror(errno)) }
            off += n
        }
        return nil
    }

    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (k: CheckedContinuation<T, Never>) in
            Thread { k.resume(returning: body()) }.start()
        }
    }
}
