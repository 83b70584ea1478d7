import DrillCore
import DrillTesting
import Foundation
import Logging
import Testing

@Suite("URL redaction")
struct URLRedactionTests {
    @Test("user information and secret parameters are masked; host, path and harmless parameters stay", arguments: [
        ("https://user:pass@127.0.0.1:8080/x.dump?X-Amz-Signature=abc",
         "https://***@127.0.0.1:8080/x.dump?X-Amz-Signature=***"),
        ("https://b.s3.amazonaws.com/k.dump?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAX%2F20261201%2Fus-east-1%2Fs3%2Faws4_request"
            + "&X-Amz-Date=20261201T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Security-Token=tok&X-Amz-Signature=deadbeef",
         "https://b.s3.amazonaws.com/k.dump?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=***"
            + "&X-Amz-Date=20261201T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Security-Token=***&X-Amz-Signature=***"),
        ("https://h/x?x-amz-signature=abc&SIG=def&Token=ghi&%53ignature=jkl&page=2",
         "https://h/x?x-amz-signature=***&SIG=***&Token=***&%53ignature=***&page=2"),
        ("https://acct.blob.core.windows.net/c/b.dump?sv=2022-11-02&se=2026-12-31&sp=r&sig=abc%3D",
         "https://acct.blob.core.windows.net/c/b.dump?sv=2022-11-02&se=2026-12-31&sp=r&sig=***"),
        ("https://h/x?AWSAccessKeyId=AKIA&Expires=1&Signature=abc", "https://h/x?AWSAccessKeyId=***&Expires=1&Signature=***"),
        ("https://h/x?access_token=a&client_secret=b&password=c&apikey=d&key=e", "https://h/x?access_token=***&client_secret=***&password=***&apikey=***&key=***"),
        ("https://token@github.example/x", "https://***@github.example/x"),
        ("https://user:pa/ss@host/x.dump", "https://***@host/x.dump"),
        ("http://127.0.0.1:9000/bucket/a@b", "http://127.0.0.1:9000/bucket/a@b"),
        ("https://h/cb#access_token=abc&state=1", "https://h/cb#access_token=***&state=1"),
        ("postgresql://drill:secret@db.internal:5432/postgres", "postgresql://***@db.internal:5432/postgres"),
        ("https://h/x?token", "https://h/x?token"),
        ("/srv/backups/shop", "/srv/backups/shop"),
        ("s3://bucket/prefix/shop.dump", "s3://bucket/prefix/shop.dump"),
        ("HTTPS://U:P@H/X", "HTTPS://***@H/X"),
    ])
    func redact(_ input: String, _ expected: String) {
        #expect(URLRedaction.redact(input) == expected)
        #expect(URLRedaction.redactURLs(in: "see \(input) now") == "see \(expected) now")
    }

    @Test("every URL in a message is redacted, the rest of the text is kept")
    func inText() {
        let text = #"cannot fetch "https://u:p@h:1/x.dump?sig=1" after 5 tries: Failed to connect; also (http://a:b@c/d?token=t), s3://b/k and /tmp/x"#
        #expect(URLRedaction.redactURLs(in: text)
            == #"cannot fetch "https://***@h:1/x.dump?sig=***" after 5 tries: Failed to connect; also (http://***@c/d?token=***), s3://b/k and /tmp/x"#)
        #expect(URLRedaction.redactURLs(in: "no url: here") == "no url: here")
        #expect(URLRedaction.redactURLs(in: "https://u:p@h") == "https://***@h")
        #expect(URLRedaction.redactURLs(in: "://odd") == "://odd")
    }

    @Test("a report's URI, WAL location, findings, check errors, tool stderr and scratch detail are redacted; observed data is not")
    func report() {
        var r = ReportFixtures.report(checks: [ReportFixtures.check("c", passed: false, observed: "https://x:y@z/", error: "at https://u:pw@h/x?sig=s1")])
        r.backup.uri = "https://u:pw@h/x.dump?X-Amz-Signature=s2"
        r.findings = ["cannot reach https://u:pw@h/x.dump?X-Amz-Signature=s3 (HTTP 403)"]
        r.restore.stderr = "pg_restore: https://u:pw@h/?token=s4"
        r.scratch.detail = "https://u:pw@h/?token=s5"
        r.wal = DrillReport.WAL(location: "https://u:pw@h/wal?sig=s6", target: "latest")
        let red = r.redactingURLs()
        let json = String(decoding: try! red.jsonData(), as: UTF8.self)
        for secret in ["pw", "s1", "s2", "s3", "s4", "s5", "s6"] {
            #expect(!json.contains("\(secret)@") && !json.contains("=\(secret)"), "\(secret) in \(json)")
        }
        #expect(red.backup.uri == "https://***@h/x.dump?X-Amz-Signature=***")
        #expect(red.checks[0].observed == "https://x:y@z/")
        #expect(DrillError(.storeDenied, "denied: https://u:pw@h/").redactingURLs() == DrillError(.storeDenied, "denied: https://***@h/"))
    }

    @Test("the locator's messages name the location without its credentials")
    func locatorMessages() async throws {
        let locator = BackupLocator(stores: FakeStore(object: nil, head: []), archiveTimeZone: TimeZone(identifier: "UTC")!)
        let drill = DrillConfig(name: "x", tier: "critical", backup: BackupConfig(location: "https://u:pw@h/x.dump?X-Amz-Signature=s1"))
        let error = try await #require(throws: DrillError.self) { try await locator.locate(drill) }
        #expect(error.message == "no backup matching \"*\" in https://***@h/x.dump?X-Amz-Signature=***")
    }

    @Test("the log handler redacts messages and metadata before the wrapped handler sees them")
    func logHandler() {
        let recorder = LogRecorder()
        var logger = Logger(label: "t", factory: { _ in RedactingLogHandler(recorder) })
        logger[metadataKey: "base"] = "https://a:b@c/"
        logger.warning("retrying https://u:pw@h/x?X-Amz-Signature=abc", metadata: [
            "url": "https://u:pw@h/x?sig=def", "list": .array([.string("https://u:pw@h/")]), "n": .stringConvertible(3),
        ])
        let entry = recorder.messages[0]
        #expect(entry.message == "retrying https://***@h/x?X-Amz-Signature=***")
        #expect(entry.metadata["url"] == "https://***@h/x?sig=***")
        #expect(entry.metadata["list"]?.contains("pw") == false)
        #expect(entry.metadata["n"] == "3")
        #expect(recorder.messages.allSatisfy { !"\($0)".contains("pw") && !"\($0)".contains("abc") })
    }
}
