@testable import DrillLive
import DrillCore
import Foundation
import DrillTesting
import Testing

/// Pure parts of the S3 client: addressing, AWS URI encoding, credentials lookup. (moto accepts a query signed as
/// written, so the canonical encoding is pinned here.)
@Suite("S3 addressing and credentials")
struct StorageAddressingTests {
    @Test func awsEncoding() {
        #expect(AWSURIEncoding.encode("backups/db b+c~_-.dump", keepSlash: true) == "backups/db%20b%2Bc~_-.dump")
        #expect(AWSURIEncoding.encode("a/b=c&d", keepSlash: false) == "a%2Fb%3Dc%26d")
        #expect(AWSURIEncoding.encode("é", keepSlash: false) == "%C3%A9")
        #expect(AWSURIEncoding.query(["prefix": "x/", "list-type": "2", "continuation-token": "1/a+b="])
                == "continuation-token=1%2Fa%2Bb%3D&list-type=2&prefix=x%2F")
    }

    @Test func pathStyleWithEndpoint() throws {
        let l = try S3Location(location: "s3://my-bucket/nightly/", endpoint: "http://127.0.0.1:9000/", region: nil, environment: [:])
        #expect(l.prefix == "nightly/")
        #expect(l.region == "us-east-1")
        #expect(l.objectURL(key: "nightly/a b.dump") == "http://127.0.0.1:9000/my-bucket/nightly/a%20b.dump")
        #expect(l.listURL(continuation: "t/1") == "http://127.0.0.1:9000/my-bucket?continuation-token=t%2F1&delimiter=%2F&list-type=2&prefix=nightly%2F")
    }

    @Test func virtualHostedOnAWS() throws {
        let l = try S3Location(location: "s3://my-bucket", endpoint: nil, region: nil, environment: ["AWS_DEFAULT_REGION": "eu-west-3"])
        #expect(l.prefix == "")
        #expect(l.region == "eu-west-3")
        #expect(l.objectURL(key: "k") == "https://my-bucket.s3.eu-west-3.amazonaws.com/k")
        #expect(l.listURL(continuation: nil) == "https://my-bucket.s3.eu-west-3.amazonaws.com/?delimiter=%2F&list-type=2")
        let dotted = try S3Location(location: "s3://my.bucket/p", endpoint: nil, region: "us-west-2", environment: ["AWS_REGION": "x"])
        #expect(dotted.region == "us-west-2")
        #expect(dotted.objectURL(key: "p/k") == "https://s3.us-west-2.amazonaws.com/my.bucket/p/k")
        let env = try S3Location(location: "s3://b/p", endpoint: nil, region: nil,
                                 environment: ["AWS_ENDPOINT_URL": "https://minio.local:9000", "AWS_REGION": "r1"])
        #expect(env.objectURL(key: "p/k") == "https://minio.local:9000/b/p/k")
        #expect(env.region == "r1")
    }

    @Test func credentialsPrecedenceAndErrors() throws {
        let dir = try TempFiles.directory("drill-creds")
        let file = "\(dir)/credentials"
        try "[default]\naws_access_key_id = A1\naws_secret_access_key = S1\n[profile p2]\naws_access_key_id=A2\naws_secret_access_key=S2\naws_session_token=T2\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        let env = try #require(try AWSCredentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "E", "AWS_SECRET_ACCESS_KEY": "ES",
                                                                        "AWS_SESSION_TOKEN": "ET", "AWS_SHARED_CREDENTIALS_FILE": file]))
        #expect(env.accessKeyID == "E" && env.sessionToken == "ET")
        let def = try #require(try AWSCredentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file]))
        #expect(def.accessKeyID == "A1" && def.sessionToken == nil)
        let p2 = try #require(try AWSCredentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "p2"]))
        #expect(p2.accessKeyID == "A2" && p2.sessionToken == "T2")
        #expect(!"\(p2)".contains("S2") && !"\(p2)".contains("T2"))
        #expect(try AWSCredentials.resolve(environment: ["HOME": dir]) == nil)
        #expect(throws: DrillError.self) { try AWSCredentials.resolve(environment: ["AWS_SHARED_CREDENTIALS_FILE": file, "AWS_PROFILE": "nope"]) }
        #expect(throws: DrillError.self) { try AWSCredentials.resolve(environment: ["AWS_ACCESS_KEY_ID": "only"]) }
    }

    @Test func listPageParsing() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>
            <Contents><Key>p/a&amp;b.dump</Key><LastModified>2024-05-01T03:00:00.000Z</LastModified><ETag>"e"</ETag><Size>12</Size></Contents>
            <Contents><Key>p/c.dump</Key><LastModified>2024-05-02T03:00:00Z</LastModified><Size>7</Size></Contents>
            <CommonPrefixes><Prefix>p/old/</Prefix></CommonPrefixes>
            <IsTruncated>true</IsTruncated><NextContinuationToken>tok+/=</NextContinuationToken></ListBucketResult>
            """
        let page = try ListObjectsV2Page.parse(Data(xml.utf8))
        #expect(page.entries.map(\.key) == ["p/a&b.dump", "p/c.dump"])
        #expect(page.entries.map(\.size) == [12, 7])
        #expect(page.prefixes == ["p/old/"], "sub-prefixes are the folders base backups live in")
        #expect(page.entries[0].lastModified == Date(timeIntervalSince1970: 1_714_532_400))
        #expect(page.entries[1].lastModified == Date(timeIntervalSince1970: 1_714_618_800))
        #expect(page.isTruncated)
        #expect(page.nextContinuationToken == "tok+/=")
        #expect(throws: (any Error).self) { try ListObjectsV2Page.parse(Data("<Error><Code>x</Code></Error>".utf8)) }
        let err = S3ErrorDocument.parse(Data("<Error><Code>AccessDenied</Code><Message>no</Message></Error>".utf8))
        #expect(err.code == "AccessDenied" && err.message == "no")
    }
}
