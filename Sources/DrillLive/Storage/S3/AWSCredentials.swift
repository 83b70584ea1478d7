import DrillCore
import Foundation

/// AWS credentials, found the way the AWS tools find them. Their description never shows the secret or the session
/// token, only where they came from.
public struct AWSCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// Where they were found, for messages: `environment (AWS_ACCESS_KEY_ID)` or `profile "x" in /path`.
    public var source: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, source: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.source = source
    }

    public var description: String { "credentials from \(source)" }
    public var debugDescription: String { description }

    /// Environment variables first (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), then the
    /// shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`) with profile `AWS_PROFILE`
    /// (else `default`). Returns nil when there are none (requests are then sent unsigned, as for a public bucket).
    /// Throws when a named profile or a half-set pair makes the intent clear but the credentials are unusable.
    public static func resolve(environment env: [String: String] = ProcessInfo.processInfo.environment) throws -> AWSCredentials? {
        let id = env["AWS_ACCESS_KEY_ID"].flatMap(nonEmpty)
        let secret = env["AWS_SECRET_ACCESS_KEY"].flatMap(nonEmpty)
        if let id, let secret {
            return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: env["AWS_SESSION_TOKEN"].flatMap(nonEmpty),
                                  source: "environment (AWS_ACCESS_KEY_ID)")
        }
        if (id == nil) != (secret == nil) {
            throw DrillError(.storeDenied, "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together (only \(id == nil ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") is set)")
        }
        let explicitProfile = env["AWS_PROFILE"].flatMap(nonEmpty)
        let profile = explicitProfile ?? "default"
        let path: String
        if let file = env["AWS_SHARED_CREDENTIALS_FILE"].flatMap(nonEmpty) {
            path = (file as NSString).expandingTildeInPath
        } else {
            let home = env["HOME"].flatMap(nonEmpty) ?? NSHomeDirectory()
            path = (home as NSString).appendingPathComponent(".aws/credentials")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            if explicitProfile != nil || env["AWS_SHARED_CREDENTIALS_FILE"] != nil {
                throw DrillError(.storeDenied, "AWS profile \"\(profile)\" requested, but \(path) cannot be read")
            }
            return nil
        }
        let sections = parseINI(String(decoding: data, as: UTF8.self))
        guard let section = sections[profile] else {
            if explicitProfile != nil { throw DrillError(.storeDenied, "no profile \"\(profile)\" in \(path)") }
            return nil
        }
        guard let key = section["aws_access_key_id"].flatMap(nonEmpty),
              let secretKey = section["aws_secret_access_key"].flatMap(nonEmpty) else {
            throw DrillError(.storeDenied, "profile \"\(profile)\" in \(path) lacks aws_access_key_id or aws_secret_access_key")
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secretKey,
                              sessionToken: section["aws_session_token"].flatMap(nonEmpty),
                              source: "profile \"\(profile)\" in \(path)")
    }

    /// `[section]` headers and `key = value` lines; `#` and `;` comments. Section names and keys as written,
    /// keys lowercased.
    static func parseINI(_ text: String) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        var current: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                var name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                if name.hasPrefix("profile ") { name = String(name.dropFirst("profile ".count)).trimmingCharacters(in: .whitespaces) }
                current = name
                out[name, default: [:]] = out[name] ?? [:]
                continue
            }
            guard let current, let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            out[current]?[key] = value
        }
        return out
    }
}

private func nonEmpty(_ s: String) -> String? { s.isEmpty ? nil : s }
