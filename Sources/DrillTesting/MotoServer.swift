import DrillLive
import Foundation

/// A real S3 API for tests: moto's server on 127.0.0.1 with signature checking on, started once per test process
/// (lazily, by the first test that asks) and stopped when the process exits.
public actor MotoServer {
    public static let shared = MotoServer()

    /// A running moto and the IAM access key it accepts.
    public struct Handle: Sendable {
        public var endpoint: String
        public var accessKeyID: String
        public var secretAccessKey: String

        /// Environment for a store or a `drill` child: the access key and the endpoint.
        public var environment: [String: String] {
            ["AWS_ACCESS_KEY_ID": accessKeyID, "AWS_SECRET_ACCESS_KEY": secretAccessKey, "AWS_REGION": "us-east-1"]
        }
    }

    private var starting: Task<Handle, any Error>?
    private var process: FixtureProcess?
    private var bucketCounter = 0

    /// The running server; the first call starts it, concurrent and later calls share it.
    public func start() async throws -> Handle {
        if let starting { return try await starting.value }
        let task = Task { try await self.launch() }
        starting = task
        return try await task.value
    }

    private func launch() async throws -> Handle {
        let check = try await ChildProcess.run(ProcessSpec(executable: "/usr/bin/env",
                                                           arguments: ["python3", "-c", "import moto, boto3, flask"]))
        guard check.succeeded else {
            throw FixtureError("moto's S3 server is not installed: run scripts/install-deps.sh --test (pip install 'moto[server]')")
        }
        var lastError: (any Error)?
        for _ in 0..<3 {
            do {
                let port = try FixtureProcess.freePort()
                let p = try await FixtureProcess(["moto", "--port", "\(port)"])
                try await FixtureProcess.waitForPort(port)
                let endpoint = "http://127.0.0.1:\(port)"
                let out = try await S3Admin.run(endpoint: endpoint, credentials: nil, ops: [["op": "enable_auth"]])
                guard let first = out.first, let key = first["key"], let secret = first["secret"] else {
                    throw FixtureError("moto did not create an access key")
                }
                let h = Handle(endpoint: endpoint, accessKeyID: key, secretAccessKey: secret)
                process = p
                return h
            } catch {
                lastError = error
                FileHandle.standardError.write(Data("moto did not start: \(error)\n".utf8))
            }
        }
        throw lastError ?? FixtureError("moto did not start")
    }

    /// A fresh bucket name, so tests sharing the server do not see each other's objects.
    public func newBucketName(_ hint: String) -> String {
        bucketCounter += 1
        let clean = hint.lowercased().filter { $0.isLetter || $0.isNumber }
        return "drill-\(clean.prefix(30))-\(bucketCounter)"
    }
}

/// Runs `drill_fixtures.py admin`: bucket and object setup through boto3 (an S3 client independent of drill's).
public enum S3Admin {
    @discardableResult
    public static func run(endpoint: String, credentials: MotoServer.Handle?, ops: [[String: any Sendable]]) async throws
        -> [[String: String]] {
        let input = try JSONSerialization.data(withJSONObject: ops)
        var env: [String: String] = [:]
        if let credentials { env = credentials.environment }
        let child = try ChildProcess(ProcessSpec(
            executable: "/usr/bin/env", arguments: ["python3", FixtureProcess.script, "admin", "--endpoint", endpoint],
            environment: env, unsetEnvironment: ["AWS_*"], stdin: .pipe,
            stdout: .capture(limit: 1 << 20), stderr: .capture(limit: 64 * 1024)))
        try child.stdin?.write(contentsOf: input)
        try child.stdin?.close()
        let result = await child.wait()
        guard result.succeeded else {
            throw FixtureError("drill_fixtures.py admin failed: \(result.stderr.suffix(2000))")
        }
        let out = Data(result.stdout.utf8)
        let items = (try JSONSerialization.jsonObject(with: out) as? [[String: Any]]) ?? []
        return items.map { $0.compactMapValues { $0 as? String } }
    }
}
