import Foundation

/// The Python webhook receiver of `Tests/fixtures/webhook_server.py`, on 127.0.0.1, recording every POST.
public final class WebhookReceiver: @unchecked Sendable {
    public let url: String
    private let process: Process
    private let stdin: Pipe
    private let record: String
    private let folder = TempFolder("webhook")

    public init() throws {
        record = folder.file("requests.jsonl")
        FileManager.default.createFile(atPath: record, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", ToolProcess.packageRoot + "/Tests/fixtures/webhook_server.py", record]
        let out = Pipe()
        stdin = Pipe()
        process.standardOutput = out
        process.standardInput = stdin
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line += byte }
        guard let port = Int(String(decoding: line, as: UTF8.self)) else { throw CocoaError(.fileReadCorruptFile) }
        url = "http://127.0.0.1:\(port)/services/T000/B000/secret"
    }

    /// The recorded requests: path, content type, body.
    public func requests() throws -> [[String: String]] {
        let text = try String(contentsOfFile: record, encoding: .utf8)
        return try text.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] ?? [:]
        }
    }

    public func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    deinit { if process.isRunning { process.terminate() } }
}
