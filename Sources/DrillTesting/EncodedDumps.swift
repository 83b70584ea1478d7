import DrillCore
import DrillLive
import Foundation

/// Compressed and encrypted copies of real dumps, made with the real tools (zstd, lz4, bzip2, xz, gzip, age, gpg).
public enum EncodedDumps {
    /// Runs a tool to completion, its output into `output` (a file) when given; throws with its error output.
    static func run(_ tool: String, _ arguments: [String], stdin: String? = nil, output: String? = nil) async throws {
        let path = ["/usr/bin", "/bin", "/usr/local/bin"].map { "\($0)/\(tool)" }.first { FileManager.default.isExecutableFile(atPath: $0) } ?? tool
        if let output { FileManager.default.createFile(atPath: output, contents: nil, attributes: [.posixPermissions: 0o644]) }
        let r = try await ChildProcess.run(ProcessSpec(executable: path, arguments: arguments, stdin: stdin.map { .file($0) } ?? .null,
                                                       stdout: output.map { .file($0) } ?? .capture(limit: 64 * 1024)))
        guard r.succeeded else { throw DrillError(.restoreFailed, "\(tool) \(arguments.joined(separator: " ")) failed: \(r.stderr)") }
    }

    /// Writes `source` compressed with `codec` (a compression) into `destination`.
    public static func compress(_ source: String, with codec: Codec, to destination: String) async throws {
        let args: [String] = switch codec {
        case .zstd: ["-q", "-c"]
        case .lz4: ["-q", "-c"]
        default: ["-c"]
        }
        try await run(codec.tool, args, stdin: source, output: destination)
    }

    /// A new age identity file in `folder`; returns its path and its recipient (public key).
    public static func ageIdentity(in folder: String, name: String = "age.key") async throws -> (identity: String, recipient: String) {
        let path = (folder as NSString).appendingPathComponent(name)
        try await run("age-keygen", ["-o", path])
        let r = try await ChildProcess.run(ProcessSpec(executable: "/usr/bin/age-keygen", arguments: ["-y", path]))
        return (path, r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Encrypts `source` to an age recipient (binary, or ASCII-armored).
    public static func ageEncrypt(_ source: String, to recipient: String, into destination: String, armor: Bool = false) async throws {
        try await run("age", ["--encrypt", "--recipient", recipient] + (armor ? ["--armor"] : []) + ["--output", destination, source])
    }

    /// A GnuPG home in a new private folder under /tmp with one secret key (no passphrase) for `email`, and its
    /// agent stopped again. Remove it with `removeGnuPGHome`.
    public static func gnupgHome(email: String) async throws -> String {
        var template = Array("/tmp/drill-test-gpg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw DrillError(.restoreFailed, "mkdtemp failed") }
        let home = String(cString: made)
        do {
            try await run("gpg", ["--homedir", home, "--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", "",
                                  "--quick-gen-key", "drill test <\(email)>", "default", "default", "never"])
        } catch {
            await removeGnuPGHome(home)
            throw error
        }
        try? await run("gpgconf", ["--homedir", home, "--kill", "all"])
        return home
    }

    /// Encrypts `source` to the key of `email` in `home` (binary, or ASCII-armored).
    public static func gpgEncrypt(_ source: String, home: String, to email: String, into destination: String, armor: Bool = false) async throws {
        try await run("gpg", ["--homedir", home, "--batch", "--quiet", "--trust-model", "always", "--recipient", email]
                        + (armor ? ["--armor"] : []) + ["--output", destination, "--encrypt", source])
        try? await run("gpgconf", ["--homedir", home, "--kill", "all"])
    }

    public static func removeGnuPGHome(_ home: String) async {
        try? await run("gpgconf", ["--homedir", home, "--kill", "all"])
        try? FileManager.default.removeItem(atPath: home)
    }

    /// gpg-agent processes running on a home folder whose path contains `fragment` (from /proc, no tool needed).
    public static func gpgAgents(homeContaining fragment: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let args = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            return args.first.map { ($0 as NSString).lastPathComponent == "gpg-agent" } == true && args.contains { $0.contains(fragment) }
        }
    }

    /// A dump (`format`) at `path` of a new database `name` of the shared source holding `rows` rows of random-looking
    /// text (about 75 bytes each, which compress to about half): large compressed or encrypted, for tests that need
    /// a download to still be under way. The database is dropped again.
    public static func bulkDump(_ name: String, rows: Int, format: BackupFormat, to path: String) async throws {
        try await SourceDatabase.shared.psql("DROP DATABASE IF EXISTS \(name)")
        try await SourceDatabase.shared.psql("CREATE DATABASE \(name)")
        try await SourceDatabase.shared.psql("CREATE TABLE bulk AS SELECT i, md5(i::text) || md5((i * 7)::text) AS v FROM generate_series(1, \(rows)) i",
                                             database: name)
        try await SourceDatabase.shared.dump(name, to: path, format: format)
        try await SourceDatabase.shared.psql("DROP DATABASE \(name)")
    }

    /// Files under `root` (recursively) whose bytes contain `marker`: proof that a plaintext reached the disk.
    public static func files(under root: String, containing marker: String) -> [String] {
        let needle = Data(marker.utf8)
        guard let walk = FileManager.default.enumerator(atPath: root) else { return [] }
        var hits: [String] = []
        while let rel = walk.nextObject() as? String {
            let path = (root as NSString).appendingPathComponent(rel)
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                  let data = FileManager.default.contents(atPath: path) else { continue }
            if data.range(of: needle) != nil { hits.append(path) }
        }
        return hits
    }
}
