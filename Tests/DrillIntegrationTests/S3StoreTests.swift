import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// The S3 store against moto with signature checking on.
@Suite("S3 store against moto")
struct S3StoreTests {
    func store(_ moto: MotoServer.Handle, bucket: String, prefix: String = "backups/", env: [String: String]? = nil) throws -> S3Store {
        try S3Store(location: "s3://\(bucket)/\(prefix)", endpoint: moto.endpoint, region: nil, environment: env ?? moto.environment)
    }

    @Test("list, head, stage and stream objects; keys with spaces and plus signs; only direct children of the prefix")
    func listFetchStream() async throws {
        let moto = try await MotoServer.shared.start()
        let bucket = await MotoServer.shared.newBucketName("fetch")
        let dir = try TempFiles.directory()
        let small = try TempFiles.random("\(dir)/small", size: 1 << 20)
        let big = try TempFiles.random("\(dir)/big", size: 3 << 20 + 17)
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: [
            ["op": "bucket", "bucket": bucket],
            ["op": "put", "bucket": bucket, "key": "backups/db-a.dump", "file": "\(dir)/small"],
            ["op": "put", "bucket": bucket, "key": "backups/notes.txt", "text": "not a backup"],
            ["op": "put", "bucket": bucket, "key": "backups/old/db-z.dump", "text": "nested: not listed"],
            ["op": "sleep", "seconds": 1.1],
            ["op": "put", "bucket": bucket, "key": "backups/db b+c.dump", "file": "\(dir)/big"],
        ])
        let s3 = try store(moto, bucket: bucket)
        let all = try await s3.list(matching: nil)
        #expect(Set(all.map(\.name)) == ["db-a.dump", "notes.txt", "db b+c.dump"])
        let listed = try await s3.list(matching: Glob("db*.dump"))
        #expect(Set(listed.map(\.name)) == ["db-a.dump", "db b+c.dump"])
        let latest = try #require(listed.latest())
        #expect(latest.name == "db b+c.dump")
        #expect(latest.key == "backups/db b+c.dump")
        #expect(latest.uri == "s3://\(bucket)/backups/db b+c.dump")
        #expect(latest.sizeBytes == Int64(big.count))
        #expect(latest.localPath == nil)

        let head = try await s3.head(latest, count: 4096)
        #expect(head == [UInt8](big.prefix(4096)))

        let progress = ProgressLog()
        let stageDir = try TempFiles.directory("drill-stage")
        let staged = try await s3.stage(latest, into: stageDir, progress: progress.record)
        #expect(staged.isTemporary)
        #expect(staged.path.hasPrefix(stageDir + "/"))
        #expect(staged.sizeBytes == Int64(big.count))
        #expect(staged.sha256 == SHA256Hasher.hex(of: big))
        #expect(FileManager.default.contents(atPath: staged.path) == big)
        let perms = try FileManager.default.attributesOfItem(atPath: staged.path)[.posixPermissions] as? NSNumber
        #expect(perms?.intValue == 0o600)
        #expect(progress.last?.done == Int64(big.count))
        #expect(progress.last?.total == Int64(big.count))

        let pipe = Pipe()
        let drain = TempFiles.Drain(pipe.fileHandleForReading)
        let small1 = try #require(listed.first { $0.name == "db-a.dump" })
        let receipt = try await s3.stream(small1, to: pipe.fileHandleForWriting, progress: nil)
        try pipe.fileHandleForWriting.close()
        #expect(drain.value() == small)
        #expect(receipt.bytes == Int64(small.count))
        #expect(receipt.sha256 == SHA256Hasher.hex(of: small))
    }

    @Test("a listing of more than 1,000 keys is paged and the newest object is found on the second page")
    func pagination() async throws {
        let moto = try await MotoServer.shared.start()
        let bucket = await MotoServer.shared.newBucketName("paging")
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: [
            ["op": "bucket", "bucket": bucket],
            ["op": "put_many", "bucket": bucket, "prefix": "nightly/db-", "count": 1100, "suffix": ".dump"],
            ["op": "sleep", "seconds": 1.1],
            ["op": "put", "bucket": bucket, "key": "nightly/db-01050.dump", "text": "the newest"],
        ])
        let listed = try await store(moto, bucket: bucket, prefix: "nightly/").list(matching: Glob("db-*.dump"))
        #expect(listed.count == 1100)
        #expect(Set(listed.map(\.name)).count == 1100)
        // The greatest name is db-01099.dump: the choice below is by LastModified, not by name or listing order.
        #expect(listed.latest()?.name == "db-01050.dump")
        #expect(listed.latest()?.sizeBytes == 10)
    }

    @Test("sidecar: match, mismatch, absent, malformed")
    func sidecars() async throws {
        let moto = try await MotoServer.shared.start()
        let bucket = await MotoServer.shared.newBucketName("sidecar")
        let dir = try TempFiles.directory()
        let data = try TempFiles.random("\(dir)/b", size: 200_000)
        let digest = SHA256Hasher.hex(of: data)
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: [
            ["op": "bucket", "bucket": bucket],
            ["op": "put", "bucket": bucket, "key": "backups/good.dump", "file": "\(dir)/b"],
            ["op": "put", "bucket": bucket, "key": "backups/good.dump.sha256", "text": "\(digest)  good.dump\n"],
            ["op": "put", "bucket": bucket, "key": "backups/bad.dump", "file": "\(dir)/b"],
            ["op": "put", "bucket": bucket, "key": "backups/bad.dump.sha256", "text": String(repeating: "ab", count: 32) + "\n"],
            ["op": "put", "bucket": bucket, "key": "backups/none.dump", "file": "\(dir)/b"],
            ["op": "put", "bucket": bucket, "key": "backups/junk.dump", "file": "\(dir)/b"],
            ["op": "put", "bucket": bucket, "key": "backups/junk.dump.sha256", "text": "not a digest"],
        ])
        let s3 = try store(moto, bucket: bucket)
        let objects = Dictionary(uniqueKeysWithValues: try await s3.list(matching: Glob("*.dump")).map { ($0.name, $0) })
        #expect(objects.count == 4)
        let stageDir = try TempFiles.directory("drill-stage")
        let staged = try await s3.stage(try #require(objects["good.dump"]), into: stageDir, progress: nil)
        #expect(try await s3.sidecarDigest(for: objects["good.dump"]!) == staged.sha256)
        let bad = try await s3.sidecarDigest(for: objects["bad.dump"]!)
        #expect(bad == String(repeating: "ab", count: 32))
        #expect(bad != digest)
        #expect(try await s3.sidecarDigest(for: objects["none.dump"]!) == nil)
        let error = await #expect(throws: DrillError.self) { try await s3.sidecarDigest(for: objects["junk.dump"]!) }
        #expect(error?.code == .digestMismatch)
    }

    @Test("credentials from a shared credentials file, named profile and default profile")
    func profileCredentials() async throws {
        let moto = try await MotoServer.shared.start()
        let bucket = await MotoServer.shared.newBucketName("profile")
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: [
            ["op": "bucket", "bucket": bucket],
            ["op": "put", "bucket": bucket, "key": "backups/p.dump", "text": "profile"],
        ])
        let dir = try TempFiles.directory()
        let file = "\(dir)/credentials"
        try """
            [default]
            aws_access_key_id = AKIADEFAULTWRONG0000
            aws_secret_access_key = wrong-default-secret

            [drilltest]
            aws_access_key_id = \(moto.accessKeyID)
            aws_secret_access_key = \(moto.secretAccessKey)
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let named = try store(moto, bucket: bucket, env: ["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "drilltest"])
        #expect(named.credentials?.source == "profile \"drilltest\" in \(file)")
        #expect(try await named.list(matching: nil).map(\.name) == ["p.dump"])

        // Without AWS_PROFILE the default profile is used: here its key is wrong, and the answer says so.
        let fallback = try store(moto, bucket: bucket, env: ["AWS_SHARED_CREDENTIALS_FILE": file])
        #expect(fallback.credentials?.accessKeyID == "AKIADEFAULTWRONG0000")
        let error = await #expect(throws: DrillError.self) { try await fallback.list(matching: nil) }
        #expect(error?.code == .storeDenied)
        #expect(error?.message.contains("profile \"default\"") == true)
        #expect(error?.message.contains("wrong-default-secret") == false)

        // ~/.aws/credentials through HOME, default profile.
        try FileManager.default.createDirectory(atPath: "\(dir)/home/.aws", withIntermediateDirectories: true)
        try "[default]\naws_access_key_id=\(moto.accessKeyID)\naws_secret_access_key=\(moto.secretAccessKey)\n"
            .write(toFile: "\(dir)/home/.aws/credentials", atomically: true, encoding: .utf8)
        let home = try store(moto, bucket: bucket, env: ["HOME": "\(dir)/home"])
        #expect(try await home.list(matching: nil).count == 1)

        // Environment variables win over the file.
        let both = try store(moto, bucket: bucket, env: moto.environment.merging(["AWS_SHARED_CREDENTIALS_FILE": file]) { $1 })
        #expect(both.credentials?.source == "environment (AWS_ACCESS_KEY_ID)")
        #expect(try await both.list(matching: nil).count == 1)
    }

    @Test("wrong credentials, a missing key and a missing bucket give clear errors that never show the secret",
          arguments: ["wrong-secret", "unknown-key"])
    func deniedAndMissing(_ variant: String) async throws {
        let moto = try await MotoServer.shared.start()
        let bucket = await MotoServer.shared.newBucketName("denied")
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: [
            ["op": "bucket", "bucket": bucket],
            ["op": "put", "bucket": bucket, "key": "backups/x.dump", "text": "x"],
        ])
        let secret = "Sup3rSecret/\(UUID().uuidString)"
        let env = ["AWS_ACCESS_KEY_ID": variant == "wrong-secret" ? moto.accessKeyID : "AKIAUNKNOWNKEY000000",
                   "AWS_SECRET_ACCESS_KEY": secret]
        let proxy = try await FaultProxy(upstreamPort: try #require(URL(string: moto.endpoint)?.port), match: "", faults: [])
        defer { proxy.stop() }
        let denied = try S3Store(location: "s3://\(bucket)/backups/", endpoint: proxy.endpoint, region: nil, environment: env)
        let error = await #expect(throws: DrillError.self) { try await denied.list(matching: nil) }
        #expect(error?.code == .storeDenied)
        #expect(error?.message.contains(bucket) == true)
        #expect(error?.message.contains(variant == "wrong-secret" ? "SignatureDoesNotMatch" : "InvalidAccessKeyId") == true)
        #expect(error?.message.contains(secret) == false)
        #expect(error?.message.contains(moto.secretAccessKey) == false)
        #expect(try await proxy.log().count == 1, "a denied request is not retried")

        let good = try S3Store(location: "s3://\(bucket)/backups/", endpoint: proxy.endpoint, region: nil, environment: moto.environment)
        let missing = BackupObject(uri: "s3://\(bucket)/backups/gone.dump", name: "gone.dump", sizeBytes: nil,
                                   modifiedAt: Date(), key: "backups/gone.dump")
        let notFound = await #expect(throws: DrillError.self) {
            try await good.stage(missing, into: try TempFiles.directory("drill-stage"), progress: nil)
        }
        #expect(notFound?.code == .backupNotFound)
        #expect(notFound?.message.contains("s3://\(bucket)/backups/gone.dump") == true)
        #expect(try await proxy.log().count == 2, "a 404 is not retried")

        let noBucket = try S3Store(location: "s3://no-such-bucket-\(variant)/x/", endpoint: moto.endpoint, region: nil,
                                   environment: moto.environment)
        let bucketError = await #expect(throws: DrillError.self) { try await noBucket.list(matching: nil) }
        #expect(bucketError?.code == .backupNotFound)
        #expect(bucketError?.message.contains("no-such-bucket-\(variant)") == true)
    }
}

extension S3StoreTests {
    @Test("AWS_SESSION_TOKEN is sent as X-Amz-Security-Token and signed")
    func sessionToken() async throws {
        let moto = try await MotoServer.shared.start()
        let bucket = await MotoServer.shared.newBucketName("token")
        try await S3Admin.run(endpoint: moto.endpoint, credentials: moto, ops: [
            ["op": "bucket", "bucket": bucket],
            ["op": "put", "bucket": bucket, "key": "backups/t.dump", "text": "token"],
        ])
        let proxy = try await FaultProxy(upstreamPort: try #require(URL(string: moto.endpoint)?.port), match: "", faults: [])
        defer { proxy.stop() }
        let env = moto.environment.merging(["AWS_SESSION_TOKEN": "session-token-123"]) { $1 }
        let s3 = try S3Store(location: "s3://\(bucket)/backups/", endpoint: proxy.endpoint, region: nil, environment: env)
        _ = try? await s3.list(matching: nil)
        let seen = try #require(try await proxy.log().first)
        #expect(seen.token == "session-token-123")
        #expect(seen.signedHeaders.split(separator: ";").contains("x-amz-security-token"))
        #expect(seen.signedHeaders.split(separator: ";").contains("x-amz-content-sha256"))
    }
}

/// Collects progress calls (they come from the transfer thread).
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [(done: Int64, total: Int64?)] = []
    var last: (done: Int64, total: Int64?)? { lock.withLock { calls.last } }
    var count: Int { lock.withLock { calls.count } }
    var record: TransferProgress { { done, total in self.lock.withLock { self.calls.append((done, total)) } } }
}
