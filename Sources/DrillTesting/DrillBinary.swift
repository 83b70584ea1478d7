import DrillLive
import Foundation

/// The built `drill` executable, run as a user would run it.
public enum DrillBinary {
    /// `drill` beside the test bundle (both live in the build products folder).
    public static var path: String {
        if let p = ProcessInfo.processInfo.environment["DRILL_BINARY"] { return p }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("drill").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug/drill").path
    }

    public struct Run: Sendable {
        public var exitCode: Int32?
        public var stdout: String
        public var stderr: String
        public var output: String { stdout + stderr }
    }

    /// Runs `drill` with `arguments`; `environment` adds to (and `unset` removes from) the inherited environment.
    public static func run(_ arguments: [String], environment: [String: String] = [:], unset: [String] = ["PG*", "DRILL_*"])
        async throws -> Run {
        let r = try await ChildProcess.run(ProcessSpec(executable: path, arguments: arguments, environment: environment,
                                                       unsetEnvironment: unset, stdout: .capture(limit: 1 << 20),
                                                       stderr: .capture(limit: 1 << 20)))
        return Run(exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr)
    }

    /// Starts `drill` without waiting (for signal tests).
    public static func start(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(ProcessSpec(executable: path, arguments: arguments, environment: environment,
                                     unsetEnvironment: ["PG*", "DRILL_*"], stdout: .capture(limit: 1 << 20),
                                     stderr: .pipe))
    }
}
