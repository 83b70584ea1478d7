import COpenSSL
import Foundation

/// Incremental SHA-256 over OpenSSL's libcrypto (EVP interface).
public final class SHA256Hasher: @unchecked Sendable {
    private let ctx: OpaquePointer

    public init() {
        ctx = EVP_MD_CTX_new()
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(ctx) }

    public func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        EVP_DigestUpdate(ctx, base, buffer.count)
    }

    public func update(_ data: Data) { data.withUnsafeBytes { update($0) } }

    /// The hex digest. The hasher must not be used afterwards.
    public func finalizeHex() -> String {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        EVP_DigestFinal_ex(ctx, &out, &len)
        return hexString(out)
    }

    public static func hex(of data: Data) -> String {
        let h = SHA256Hasher()
        h.update(data)
        return h.finalizeHex()
    }

    /// Digest of a file, read in 1 MiB blocks.
    public static func hex(ofFile path: String) throws -> (digest: String, bytes: Int64) {
        guard let fh = FileHandle(forReadingAtPath: path) else {
            throw DrillLiveError.io("cannot open \(path)")
        }
        defer { try? fh.close() }
        let h = SHA256Hasher()
        var total: Int64 = 0
        while let chunk = try fh.read(upToCount: 1 << 20), !chunk.isEmpty {
            h.update(chunk)
            total += Int64(chunk.count)
        }
        return (h.finalizeHex(), total)
    }
}

func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0xf)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Errors of the adapter layer that are not already `DrillError`s.
public enum DrillLiveError: Error, CustomStringConvertible {
    case io(String)
    public var description: String {
        switch self {
        case .io(let m): m
        }
    }
}
