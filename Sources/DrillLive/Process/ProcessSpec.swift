import Foundation

/// A child process described as data, so the arguments of `pg_restore`, `psql` and friends can be built by pure
/// functions and tested. Secrets go in `environment`, never in `arguments`.
public struct ProcessSpec: Sendable, Equatable {
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

    public init(executable: String, arguments: [String], environment: [String: String] = [:],
                unsetEnvironment: [String] = [], workingDirectory: String? = nil, stdin: Input = .null,
                stdout: Output = .capture(limit: 64 * 1024), stderr: Output = .capture(limit: 64 * 1024)) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.unsetEnvironment = unsetEnvironment
        self.workingDirectory = workingDirectory
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
    }

    /// The command line for logs (arguments only; the environment is never shown).
    public var commandLine: String { ([executable] + arguments).joined(separator: " ") }

    /// The environment the child gets.
    func resolvedEnvironment(from base: [String: String]) -> [String: String] {
        var env = base
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
