/// Removes credentials from URLs before they reach a report, a log line, an error message or a progress line:
/// the user information (`https://user:pass@host` → `https://***@host`) and the values of query (and fragment)
/// parameters that carry a signature, a credential or a token (`?X-Amz-Signature=abc` → `?X-Amz-Signature=***`).
/// Everything else (scheme, host, port, path, harmless parameters such as `X-Amz-Expires`) is kept, so a message
/// still says which object failed.
///
/// Parameter names are compared case-insensitively after percent-decoding. A name is secret when it is one of
/// `secretNames` or contains one of `secretNameParts` (so `X-Amz-Signature`, `X-Goog-Credential`,
/// `client_secret`, `access_token` all are).
public enum URLRedaction {
    /// What a removed value is replaced with.
    public static let mask = "***"

    /// Parameter names that are secret as a whole.
    public static let secretNames: Set<String> = [
        "sig", "key", "apikey", "api_key", "api-key", "pass", "pwd", "auth", "code", "awsaccesskeyid",
    ]

    /// A parameter whose name contains one of these is secret.
    public static let secretNameParts = ["signature", "credential", "token", "secret", "password", "passwd"]

    /// Whether a query parameter of this (raw) name carries a secret.
    public static func isSecret(parameter name: String) -> Bool {
        let n = (name.removingPercentEncodingSafely ?? name).lowercased()
        return secretNames.contains(n) || secretNameParts.contains { n.contains($0) }
    }

    /// One URL, redacted. A string without a `scheme://` is returned as it is (a local path).
    public static func redact(_ url: String) -> String {
        let chars = Array(url.unicodeScalars)
        guard let authorityStart = schemeEnd(chars, from: 0) else { return url }
        var out = String(String.UnicodeScalarView(chars[0..<authorityStart]))
        var i = authorityStart
        // The authority ends at the first "/", "?" or "#".
        var authorityEnd = chars[i...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? chars.count
        // A password that holds a raw "/" (`https://user:pa/ss@host`) would end the authority early: when the part
        // before "?" / "#" has an "@" beyond it and the authority looks like `user:…` without a numeric port, the
        // user information runs to that "@" (over-redacting a path with an "@" in it is the safe mistake).
        let beforeQuery = chars[i...].firstIndex { $0 == "?" || $0 == "#" } ?? chars.count
        var at = chars[i..<authorityEnd].lastIndex(of: "@")
        if at == nil, looksLikeUserAndPassword(chars[i..<authorityEnd]),
           let later = chars[authorityEnd..<beforeQuery].lastIndex(of: "@") {
            at = later
            authorityEnd = chars[(later + 1)...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? chars.count
        }
        if let at {
            out += mask + "@"
            i = at + 1
        }
        out += String(String.UnicodeScalarView(chars[i..<authorityEnd]))
        i = authorityEnd
        // Path, then the query and the fragment, each a list of name=value pairs.
        while i < chars.count {
            let c = chars[i]
            if c == "?" || c == "#" {
                out.unicodeScalars.append(c)
                let end = c == "?" ? (chars[(i + 1)...].firstIndex(of: "#") ?? chars.count) : chars.count
                out += redactParameters(String(String.UnicodeScalarView(chars[(i + 1)..<end])))
                i = end
            } else {
                out.unicodeScalars.append(c)
                i += 1
            }
        }
        return out
    }

    /// Every URL in a free text (an error message, a log line, a tool's stderr), redacted. A URL runs from its
    /// `scheme://` to the next white space or quote, less trailing punctuation (`)`, `,`, `.`, …).
    public static func redactURLs(in text: String) -> String {
        guard text.contains("://") else { return text }
        let chars = Array(text.unicodeScalars)
        var out = ""
        var i = 0
        var copied = 0
        while i < chars.count {
            // A scheme starts at a letter not preceded by a scheme character.
            if isLetter(chars[i]), i == 0 || !isSchemeChar(chars[i - 1]), let authority = schemeEnd(chars, from: i) {
                var end = chars[authority...].firstIndex(where: isURLTerminator) ?? chars.count
                // Punctuation after a URL in prose (`(see https://h/x?sig=abc), …`) is not part of it.
                while end > authority, ")],.;:!?}".unicodeScalars.contains(chars[end - 1]) { end -= 1 }
                out += String(String.UnicodeScalarView(chars[copied..<i]))
                out += redact(String(String.UnicodeScalarView(chars[i..<end])))
                i = end
                copied = end
            } else {
                i += 1
            }
        }
        out += String(String.UnicodeScalarView(chars[copied..<chars.count]))
        return out
    }

    // MARK: - Helpers

    /// `a=1&X-Amz-Signature=abc` → `a=1&X-Amz-Signature=***`.
    static func redactParameters(_ query: String) -> String {
        query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            guard let eq = pair.firstIndex(of: "=") else { return String(pair) }
            let name = pair[..<eq]
            return isSecret(parameter: String(name)) ? "\(name)=\(mask)" : String(pair)
        }.joined(separator: "&")
    }

    /// The index just after `scheme://` when a scheme starts at `start`.
    private static func schemeEnd(_ chars: [Unicode.Scalar], from start: Int) -> Int? {
        guard start < chars.count, isLetter(chars[start]) else { return nil }
        var i = start + 1
        while i < chars.count, isSchemeChar(chars[i]) { i += 1 }
        guard i + 2 < chars.count, chars[i] == ":", chars[i + 1] == "/", chars[i + 2] == "/" else { return nil }
        return i + 3
    }

    /// `user:pa` (a password cut short by a raw "/"), as opposed to `host:5432` or `[::1]:80`.
    private static func looksLikeUserAndPassword(_ authority: ArraySlice<Unicode.Scalar>) -> Bool {
        guard let colon = authority.lastIndex(of: ":") else { return false }
        let after = authority[(colon + 1)...]
        return after.isEmpty || !after.allSatisfy { ("0"..."9").contains($0) }
    }

    private static func isLetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) }

    private static func isSchemeChar(_ c: Unicode.Scalar) -> Bool {
        isLetter(c) || ("0"..."9").contains(c) || c == "+" || c == "-" || c == "."
    }

    private static func isURLTerminator(_ c: Unicode.Scalar) -> Bool {
        c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\"" || c == "'" || c == "<" || c == ">" || c == "`"
    }
}

extension String {
    /// Percent-decoding without Foundation (DrillCore keeps its imports small); nil when malformed.
    fileprivate var removingPercentEncodingSafely: String? {
        var bytes: [UInt8] = []
        var it = Array(utf8)[...]
        while let b = it.popFirst() {
            if b == UInt8(ascii: "%") {
                guard it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) else { return nil }
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }
}
