import Foundation

/// A child process described as data, so the arguments of `pg_restore`, `psql` and friends can be built by pure
/// functions and tested. Secrets go in `environment`, never in `arguments`.
///
/// What a child inherits of drill's own environment is chosen by `inherit`. With `.all` (the default), variables that
/// hold credentials (`ProcessSpec.isSecret`: AWS keys, `PGPASSWORD`, anything named like a secret, password or token)
/// are still left out: a credential reaches only the process that needs it, through `environment`.
public struct ProcessSpec: Sendable, Equatable {
    /// Which of drill's own variables the child inherits (before `unsetEnvironment` and `environment` apply).
    public enum Inheritance: Sendable, Equatable {
        /// Everything except credentials (`ProcessSpec.isSecret`).
        case all
        /// Only these names (a trailing `*` matches a prefix), credentials included when named: an allow-list.
        case only([String])
    }

    public enum Input: Sendable, Equatable {
        case null
        /// A pipe the caller writes into (`ChildProcess.stdin`).
        case pipe
        /// Another file descriptor (e.g. the read end of a pipe from another child).
        case file(String)
    }

    public enum Output: Sendable, Equatable {
        case null
        /// Kept in memory, at most `limit` bytes (the head and the tail).
        case capture(limit: Int)
        /// Appended to a file.
        case file(String)
        /// A pipe the caller reads from (`ChildProcess.stdout`).
        case pipe
    }

    public var executable: String
    public var arguments: [String]
    /// Variables added to (or overriding) the inherited environment.
    public var environment: [String: String]
    /// Variables removed from the inherited environment (prefix match when ending in `*`).
    public var unsetEnvironment: [String]
    public var workingDirectory: String?
    public var stdin: Input
    public var stdout: Output
    public var stderr: Output
    /// What the child inherits of drill's environment.
    public var inherit: Inheritance
    /// The child gets SIGKILL when drill dies, however it dies (PR_SET_PDEATHSIG, through `setpriv --pdeathsig`).
    /// `ChildProcess` spawns every child from one thread that lives as long as drill, so the signal means "drill is
    /// gone", not "the spawning thread ended". Off for a process that must outlive drill (its watchdog).
    public var dieWithParent: Bool
    /// The child starts a new session (setsid): a terminal's Ctrl-C or a signal to drill's process group misses it.
    public var newSession: Bool
    /// Descriptors of drill the child receives as 3, 4, …, in order (every other descriptor is closed in the child).
    public var passDescriptors: [Int32]

    public init(executable: String, arguments: [String], environment: [String: String] = [:],
                unsetEnvironment: [String] = [], workingDirectory: String? = nil, stdin: Input = .null,
                stdout: Output = .capture(limit: 64 * 1024), stderr: Output = .capture(limit: 64 * 1024),
                inherit: Inheritance = .all, dieWithParent: Bool = true, newSession: Bool = false,
                passDescriptors: [Int32] = []) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.unsetEnvironment = unsetEnvironment
        self.workingDirectory = workingDirectory
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.inherit = inherit
        self.dieWithParent = dieWithParent
        self.newSession = newSession
        self.passDescriptors = passDescriptors
    }

    /// The command line for logs (arguments only; the environment is never shown).
    public var commandLine: String { ([executable] + arguments).joined(separator: " ") }

    /// The environment the child gets.
    public func resolvedEnvironment(from base: [String: String]) -> [String: String] {
        var env: [String: String]
        switch inherit {
        case .all: env = base.filter { !Self.isSecret($0.key) }
        case .only(let names): env = base.filter { Self.matches($0.key, names) }
        }
        for name in unsetEnvironment {
            if name.hasSuffix("*") {
                let prefix = String(name.dropLast())
                for k in env.keys where k.hasPrefix(prefix) { env.removeValue(forKey: k) }
            } else {
                env.removeValue(forKey: name)
            }
        }
        env.merge(environment) { _, new in new }
        return env
    }

    static func matches(_ name: String, _ patterns: [String]) -> Bool {
        patterns.contains { $0.hasSuffix("*") ? name.hasPrefix(String($0.dropLast())) : name == $0 }
    }

    /// Whether a variable of drill's environment holds a credential, which no child inherits unless it is named.
    public static func isSecret(_ name: String) -> Bool {
        let upper = name.uppercased()
        if ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "PGPASSWORD",
            "PGSSLPASSWORD"].contains(upper) { return true }
        // IDENTITY and AGE_KEY: age identities (backup.decrypt.age_identity_env).
        return ["SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "TOKEN", "CREDENTIAL", "PRIVATE_KEY", "API_KEY", "IDENTITY", "AGE_KEY"]
            .contains { upper.contains($0) }
    }

    /// The AWS credentials of drill's environment: a tool that talks to S3 itself gets them by name (`environment`).
    public static let awsCredentialVariables = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                                "AWS_SECURITY_TOKEN"]

    /// The variables a sandboxed child keeps of drill's environment: the locale and the time zone, nothing else.
    public static let localeAndZone = ["LANG", "LANGUAGE", "LC_*", "TZ"]

    /// The search path given to sandboxed children instead of drill's own.
    public static let safePath = "/usr/local/bin:/usr/bin:/bin"
}

/// How a child ended.
public struct ProcessResult: Sendable, Equatable {
    /// The exit status, or nil when a signal ended it.
    public var exitCode: Int32?
    public var signal: Int32?
    public var stdout: String
    public var stderr: String
    /// Wall time from spawn to exit.
    public var seconds: Double

    public init(exitCode: Int32?, signal: Int32?, stdout: String, stderr: String, seconds: Double = 0) {
        self.exitCode = exitCode
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds
    }

    public var succeeded: Bool { exitCode == 0 }

    /// `exit status 1` or `killed by signal 15`.
    public var summary: String {
        if let exitCode { return "exit status \(exitCode)" }
        return "killed by signal \(signal ?? 0)"
    }
}
