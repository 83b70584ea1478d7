/// Percent-encoding as AWS Signature Version 4 wants it: every byte except `A-Z a-z 0-9 - . _ ~` becomes `%XY`
/// (uppercase hex); `/` is kept in object paths and encoded in query values.
enum AWSURIEncoding {
    static func encode(_ s: String, keepSlash: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                out.append(b)
            case UInt8(ascii: "/") where keepSlash:
                out.append(b)
            default:
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xf)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `a=1&b=2`, sorted by key and encoded: curl signs the query string as written, so it must already be canonical.
    static func query(_ items: [String: String]) -> String {
        items.keys.sorted().map { "\(encode($0, keepSlash: false))=\(encode(items[$0]!, keepSlash: false))" }
            .joined(separator: "&")
    }
}
