import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One page of a ListObjectsV2 answer, parsed with XMLParser.
struct ListObjectsV2Page {
    struct Entry: Equatable {
        var key: String
        var size: Int64?
        var lastModified: Date?
        var eTag: String?
    }

    var entries: [Entry] = []
    /// `CommonPrefixes`: the "folders" directly under the listed prefix (with the `/` delimiter).
    var prefixes: [String] = []
    var isTruncated = false
    var nextContinuationToken: String?

    static func parse(_ data: Data) throws -> ListObjectsV2Page {
        let delegate = Delegate()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        guard parser.parse(), delegate.sawRoot else {
            throw S3ResponseError.malformed(parser.parserError.map { "\($0)" } ?? "not a ListBucketResult document")
        }
        return delegate.page
    }

    private final class Delegate: NSObject, XMLParserDelegate {
        var page = ListObjectsV2Page()
        var sawRoot = false
        private var path: [String] = []
        private var text = ""
        private var entry: Entry?
        private let dates = S3DateParser()

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if path.isEmpty, name == "ListBucketResult" { sawRoot = true }
            path.append(name)
            text = ""
            if name == "Contents", path.count == 2 { entry = Entry(key: "") }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            defer { path.removeLast(); text = "" }
            switch (path.count, name) {
            case (2, "IsTruncated"): page.isTruncated = text.trimmingCharacters(in: .whitespaces).lowercased() == "true"
            case (2, "NextContinuationToken"): page.nextContinuationToken = text
            case (2, "Contents"):
                if let e = entry { page.entries.append(e) }
                entry = nil
            case (3, "Prefix") where path[1] == "CommonPrefixes": page.prefixes.append(text)
            case (3, "Key") where path[1] == "Contents": entry?.key = text
            case (3, "Size") where path[1] == "Contents": entry?.size = Int64(text.trimmingCharacters(in: .whitespaces))
            case (3, "LastModified") where path[1] == "Contents": entry?.lastModified = dates.parse(text)
            case (3, "ETag") where path[1] == "Contents": entry?.eTag = text
            default: break
            }
        }
    }
}

/// An S3 error document (`<Error><Code>…</Code><Message>…</Message></Error>`).
struct S3ErrorDocument {
    var code: String?
    var message: String?

    static func parse(_ data: Data) -> S3ErrorDocument {
        let delegate = Delegate()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        _ = parser.parse()
        return S3ErrorDocument(code: delegate.fields["Code"], message: delegate.fields["Message"])
    }

    private final class Delegate: NSObject, XMLParserDelegate {
        var fields: [String: String] = [:]
        private var depth = 0
        private var text = ""
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            depth += 1
            text = ""
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if depth == 2, name == "Code" || name == "Message" { fields[name] = text }
            depth -= 1
            text = ""
        }
    }
}

enum S3ResponseError: Error, CustomStringConvertible {
    case malformed(String)
    var description: String {
        switch self {
        case .malformed(let why): "malformed S3 answer: \(why)"
        }
    }
}

/// S3 timestamps: `2024-05-01T03:00:00.000Z`, with or without fractional seconds. One per parse (not thread-safe).
final class S3DateParser {
    private let fractional = ISO8601DateFormatter()
    private let whole = ISO8601DateFormatter()

    init() {
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        whole.formatOptions = [.withInternetDateTime]
    }

    func parse(_ text: String) -> Date? {
        let t = text.trimmingCharacters(in: .whitespaces)
        return fractional.date(from: t) ?? whole.date(from: t)
    }
}
