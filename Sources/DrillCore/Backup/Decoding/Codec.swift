import Foundation

/// A layer wrapped around a dump: a compression or an encryption, recognised by its magic bytes or header (never by the
/// file's name) and removed on the fly by the matching tool (`gzip`, `zstd`, `lz4`, `bzip2`, `xz`, `age`, `gpg`).
public enum Codec: String, Sendable, Codable, CaseIterable {
    case gzip, zstd, lz4, bzip2, xz
    /// age (X25519 identities), binary or ASCII-armored.
    case age
    /// OpenPGP (GnuPG), binary or ASCII-armored.
    case openpgp

    /// Whether removing the layer needs a key (`backup.decrypt`).
    public var isEncryption: Bool { self == .age || self == .openpgp }

    /// The tool that removes the layer.
    public var tool: String {
        switch self {
        case .gzip: "gzip"
        case .zstd: "zstd"
        case .lz4: "lz4"
        case .bzip2: "bzip2"
        case .xz: "xz"
        case .age: "age"
        case .openpgp: "gpg"
        }
    }

    /// How reports and messages name the layer: `zstd-compressed`, `age-encrypted`.
    public var adjective: String { isEncryption ? "\(self == .openpgp ? "OpenPGP" : "age")-encrypted" : "\(rawValue)-compressed" }

    /// The layer a stream starts with, from its first bytes (a few dozen are enough), or nil when it starts with none.
    public static func detect(_ head: [UInt8]) -> Codec? {
        func starts(_ magic: [UInt8]) -> Bool { head.count >= magic.count && Array(head[0..<magic.count]) == magic }
        if starts([0x1f, 0x8b]) { return .gzip }
        if starts([0x28, 0xb5, 0x2f, 0xfd]) { return .zstd }
        // lz4 frame format, and the legacy format of `lz4 -l`.
        if starts([0x04, 0x22, 0x4d, 0x18]) || starts([0x02, 0x21, 0x4c, 0x18]) { return .lz4 }
        if starts(Array("BZh".utf8)), head.count >= 4, (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(head[3]) { return .bzip2 }
        if starts([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return .xz }
        if starts(Array("age-encryption.org/v1\n".utf8)) || starts(Array("-----BEGIN AGE ENCRYPTED FILE-----".utf8)) {
            return .age
        }
        if starts(Array("-----BEGIN PGP MESSAGE-----".utf8)) || isOpenPGPMessage(head) { return .openpgp }
        return nil
    }

    /// A binary OpenPGP message (RFC 4880/9580) starts with a public-key or symmetric-key encrypted session key packet
    /// (tags 1 and 3), or directly with encrypted data (tags 9, 18, 20), in the old or the new packet format; the
    /// session key packets' version byte is checked too, so that random binary data is not taken for one.
    static func isOpenPGPMessage(_ head: [UInt8]) -> Bool {
        guard let first = head.first, first & 0x80 != 0 else { return false }
        let tag: UInt8
        var bodyStart: Int
        if first & 0x40 != 0 {  // new format: one tag byte, then a length of 1, 2 or 5 bytes (or partial)
            tag = first & 0x3f
            guard head.count >= 2 else { return false }
            bodyStart = head[1] < 192 ? 2 : head[1] < 224 ? 3 : head[1] == 255 ? 6 : 2
        } else {  // old format: tag in bits 5-2, length type in bits 1-0
            tag = (first >> 2) & 0x0f
            bodyStart = [2, 3, 5, 1][Int(first & 0x03)]
        }
        switch tag {
        case 1:
            guard head.count > bodyStart else { return false }
            return head[bodyStart] == 3 || head[bodyStart] == 6
        case 3:
            guard head.count > bodyStart else { return false }
            return (4...6).contains(head[bodyStart])
        case 9, 18, 20: return head.count >= 8
        default: return false
        }
    }
}

/// The layers found around a dump, outermost first, and the format inside them: what a report records.
public struct DecodedFormat: Sendable, Equatable {
    public var codecs: [Codec]
    public var format: BackupFormat

    public init(codecs: [Codec], format: BackupFormat) {
        self.codecs = codecs
        self.format = format
    }

    /// `age-encrypted, zstd-compressed plain` and the like.
    public var description: String { (codecs.map(\.adjective) + [format.rawValue]).joined(separator: ", ") }
}
