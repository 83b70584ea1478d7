import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// The HTTP(S) store against a local static file server (no Range support, so resumes take the skip path).
@Suite("HTTP store against a local server")
struct HTTPStoreTests {
    @Test("list (HEAD), head, stage, stream and sidecar of one backup file")
    func fetch() async throws {
        let dir = try TempFiles.directory("drill-http")
        let data = try TempFiles.random("\(dir)/shop 1.dump", size: 2 << 20 + 5)
        try "\(SHA256Hasher.hex(of: data))  shop 1.dump\n".write(toFile: "\(dir)/shop 1.dump.sha256", atomically: true, encoding: .utf8)
        try TempFiles.random("\(dir)/nosidecar.dump", size: 1000)
        let mtime = Date(timeIntervalSince1970: 1_700_000_000)
        try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: "\(dir)/shop 1.dump")
        let server = try await StaticHTTPServer(directory: dir)
        defer { server.stop() }

        let http = try HTTPStore(location: "\(server.baseURL)/shop%201.dump")
        let listed = try await http.list(matching: nil)
        #expect(listed.count == 1)
        let object = try #require(listed.first)
        #expect(object.name == "shop 1.dump")
        #expect(object.sizeBytes == Int64(data.count))
        #expect(object.modifiedAt == mtime)
        #expect(object.uri == "\(server.baseURL)/shop%201.dump")
        #expect(try await http.list(matching: Glob("*.sql")).isEmpty)

        #expect(try await http.head(object, count: 100) == [UInt8](data.prefix(100)))
        let staged = try await http.stage(object, into: try TempFiles.directory("drill-stage"), progress: nil)
        #expect(staged.sha256 == SHA256Hasher.hex(of: data))
        #expect(FileManager.default.contents(atPath: staged.path) == data)
        #expect(try await http.sidecarDigest(for: object) == staged.sha256)

        let pipe = Pipe()
        let drain = TempFiles.Drain(pipe.fileHandleForReading)
        let receipt = try await http.stream(object, to: pipe.fileHandleForWriting, progress: nil)
        try pipe.fileHandleForWriting.close()
        #expect(drain.value() == data)
        #expect(receipt.sha256 == staged.sha256)

        let other = try HTTPStore(location: "\(server.baseURL)/nosidecar.dump")
        #expect(try await other.sidecarDigest(for: try #require(try await other.list(matching: nil).first)) == nil)

        let missing = try HTTPStore(location: "\(server.baseURL)/gone.dump")
        let error = await #expect(throws: DrillError.self) { try await missing.list(matching: nil) }
        #expect(error?.code == .backupNotFound)
        #expect(error?.message.contains("/gone.dump") == true)
    }

    @Test("a cut body is resumed even though the server ignores Range: the bytes already written are skipped")
    func resumeWithoutRangeSupport() async throws {
        let dir = try TempFiles.directory("drill-http")
        let data = try TempFiles.random("\(dir)/b.dump", size: 3 << 20)
        let server = try await StaticHTTPServer(directory: dir)
        defer { server.stop() }
        let proxy = try await FaultProxy(upstreamPort: server.port, match: "b.dump", faults: ["cut:800000", "500", "ok"])
        defer { proxy.stop() }
        let http = try HTTPStore(location: "\(proxy.endpoint)/b.dump",
                                 retry: RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(50)))
        let object = try #require(try await http.list(matching: nil).first)
        let pipe = Pipe()
        let drain = TempFiles.Drain(pipe.fileHandleForReading)
        let receipt = try await http.stream(object, to: pipe.fileHandleForWriting, progress: nil)
        try pipe.fileHandleForWriting.close()
        #expect(drain.value() == data)
        #expect(receipt.sha256 == SHA256Hasher.hex(of: data))
        let gets = try await proxy.log().filter { $0.method == "GET" }
        #expect(gets.map(\.fault) == ["cut:800000", "500", "ok"])
        #expect(gets.last?.range?.hasPrefix("bytes=") == true)
    }

    @Test("a server that refuses HEAD: size and Last-Modified from a one-byte Range GET; a pre-signed URL's refused sidecar is absent")
    func noHead() async throws {
        let dir = try TempFiles.directory("drill-http")
        let data = try TempFiles.random("\(dir)/g.dump", size: 123_457)
        let mtime = Date(timeIntervalSince1970: 1_710_000_000)
        try FileManager.default.setAttributes([.modificationDate: mtime], ofItemAtPath: "\(dir)/g.dump")
        let server = try await StaticHTTPServer(directory: dir)
        defer { server.stop() }
        let proxy = try await FaultProxy(upstreamPort: server.port, match: "", faults: [], rejectHead: true)
        defer { proxy.stop() }
        let http = try HTTPStore(location: "\(proxy.endpoint)/g.dump")
        let object = try #require(try await http.list(matching: nil).first)
        #expect(object.sizeBytes == Int64(data.count))
        #expect(object.modifiedAt == mtime)
        #expect(try await proxy.log().map(\.method) == ["HEAD", "GET"])
        // With a query string (as a pre-signed URL has), a sidecar answered 403 counts as absent; without one it is an error.
        let signed = try HTTPStore(location: "\(proxy.endpoint)/g.dump?X-Amz-Signature=abc")
        let signedObject = try #require(try await signed.list(matching: nil).first)
        let forbidden = try await FaultProxy(upstreamPort: server.port, match: ".sha256", faults: ["403", "403"])
        defer { forbidden.stop() }
        let viaForbidden = try HTTPStore(location: "\(forbidden.endpoint)/g.dump?X-Amz-Signature=abc")
        #expect(try await viaForbidden.sidecarDigest(for: try #require(try await viaForbidden.list(matching: nil).first)) == nil)
        let plain = try HTTPStore(location: "\(forbidden.endpoint)/g.dump")
        let plainObject = try #require(try await plain.list(matching: nil).first)
        await #expect(throws: DrillError.self) { try await plain.sidecarDigest(for: plainObject) }
        #expect(signedObject.uri == "\(proxy.endpoint)/g.dump?X-Amz-Signature=***")
        let staged = try await http.stage(object, into: try TempFiles.directory("drill-stage"), progress: nil)
        #expect(staged.sha256 == SHA256Hasher.hex(of: data))
    }

    @Test("HTTPS: a self-signed server is refused (not retried) unless SSL_CERT_FILE names its certificate")
    func https() async throws {
        let dir = try TempFiles.directory("drill-https")
        let data = try TempFiles.random("\(dir)/t.dump", size: 700_001)
        let tls = try await StaticHTTPServer.selfSignedCertificate(in: try TempFiles.directory("drill-cert"))
        let server = try await StaticHTTPServer(directory: dir, tls: tls)
        defer { server.stop() }
        #expect(server.baseURL.hasPrefix("https://"))

        // A retry would first wait 30 s: a failure well within that was not retried, however loaded the machine.
        let untrusted = try HTTPStore(location: "\(server.baseURL)/t.dump", environment: [:],
                                      retry: RetryPolicy(maxAttempts: 5, baseDelay: .seconds(30), maxDelay: .seconds(30)))
        let started = ContinuousClock.now
        let error = await #expect(throws: DrillError.self) { try await untrusted.list(matching: nil) }
        #expect(error?.code == .storeUnavailable)
        #expect(error?.message.lowercased().contains("certificate") == true, "\(error?.message ?? "")")
        #expect(ContinuousClock.now - started < .seconds(20), "a certificate failure is not retried")

        let trusted = try HTTPStore(location: "\(server.baseURL)/t.dump", environment: ["SSL_CERT_FILE": tls.cert])
        let object = try #require(try await trusted.list(matching: nil).first)
        #expect(object.sizeBytes == Int64(data.count))
        let staged = try await trusted.stage(object, into: try TempFiles.directory("drill-stage"), progress: nil)
        #expect(staged.sha256 == SHA256Hasher.hex(of: data))
    }

    @Test("credentials and query strings stay out of reports and messages")
    func redaction() throws {
        let store = try HTTPStore(location: "https://user:pa55word@backups.example/x/db.dump?X-Amz-Signature=abc123")
        #expect(store.displayURL == "https://***@backups.example/x/db.dump?X-Amz-Signature=***")
        #expect(!store.displayURL.contains("pa55word"))
        #expect(!store.displayURL.contains("abc123"))
    }
}

extension HTTPStoreTests {
    @Test("a server that says Accept-Ranges: the file is streamed over 3 connections in 1 MiB ranges; one that does not: one GET")
    func rangedWhenAnnounced() async throws {
        let dir = try TempFiles.directory("drill-http-r")
        let data = try TempFiles.random("\(dir)/base.tar", size: 5 << 20 + 99)
        let options = DownloadOptions(connections: 3, chunkBytes: 1 << 20)
        for ranges in [true, false] {
            let server = try await StaticHTTPServer(directory: dir, ranges: ranges)
            defer { server.stop() }
            let proxy = try await FaultProxy(upstreamPort: server.port, match: "base.tar", faults: [])
            defer { proxy.stop() }
            let http = try HTTPStore(location: "\(proxy.endpoint)/base.tar")
            let object = try #require(try await http.list(matching: nil).first)
            let pipe = Pipe()
            let drain = TempFiles.Drain(pipe.fileHandleForReading)
            let receipt = try await http.stream(object, to: pipe.fileHandleForWriting, options: options, progress: nil)
            try pipe.fileHandleForWriting.close()
            #expect(drain.value() == data)
            #expect(receipt.sha256 == SHA256Hasher.hex(of: data))
            let gets = try await proxy.log().filter { $0.method == "GET" }.map(\.range)
            if ranges {
                let plan = ChunkPlan(size: Int64(data.count), chunkBytes: options.chunkBytes)
                #expect(Set(gets.compactMap { $0 }) == Set((0..<plan.count).map { plan.rangeHeader($0) }))
                #expect(gets.count == plan.count)
            } else {
                #expect(gets == [nil])
            }
        }
    }
}
