import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// A location with credentials and a pre-signed URL's signature, as a real `drill run` handles it when the fetch fails.
@Suite("Redaction of URLs in a real run", .timeLimit(.minutes(3)))
struct RedactionTests {
    @Test("user:password and X-Amz-Signature of a failing https location appear in no report, no stdout, no stderr")
    func failingFetch() async throws {
        let folder = TempFolder("redact")
        let password = "Pa55wordQ7x", signature = "abc9d8e7f6sig", credential = "AKIAQ7CRED"
        let port = try closedPort()
        let location = "https://drilluser:\(password)@127.0.0.1:\(port)/x.dump?X-Amz-Credential=\(credential)&X-Amz-Expires=60&X-Amz-Signature=\(signature)"
        let config = try ConfigFixture(in: folder, drills: ["shop": ConfigFixture.drill(location: location)])
        let archive = folder.sub("archive")
        let r = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", archive, "--log-level", "debug"],
                                          environment: ["TMPDIR": folder.sub("scratch")])
        #expect(r.exitCode == 3, "\(r.output)")
        let redacted = "https://***@127.0.0.1:\(port)/x.dump?X-Amz-Credential=***&X-Amz-Expires=60&X-Amz-Signature=***"
        #expect(r.stderr.contains("fetch: started (\(redacted))"), "\(r.stderr)")
        let files = try FileManager.default.subpathsOfDirectory(atPath: archive).filter { $0.hasSuffix(".json") || $0.hasSuffix(".md") }
        #expect(files.count == 2, "\(files)")
        var texts = ["stdout": r.stdout, "stderr": r.stderr]
        for f in files { texts[f] = try String(contentsOfFile: (archive as NSString).appendingPathComponent(f), encoding: .utf8) }
        for (name, text) in texts {
            for secret in [password, signature, credential, "drilluser"] {
                #expect(!text.contains(secret), "\(secret) in \(name):\n\(text)")
            }
        }
        let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
        #expect(report.status == .failed)
        #expect(report.backup.uri == redacted)
        #expect(report.findings.contains { $0.contains("127.0.0.1:\(port)") }, "the findings still say which server failed: \(report.findings)")
        expectNothingLeft(folder)
    }
}

/// A loopback port nothing listens on (bound, then closed).
private func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw DrillLiveError.io("socket") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
    }
    guard bound else { throw DrillLiveError.io("bind") }
    return Int(UInt16(bigEndian: addr.sin_port))
}
