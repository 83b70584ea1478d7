import DrillCore
import Foundation
import Testing

@Suite("Compression and encryption layers: magic bytes, headers, decoding stages, backup.decrypt")
struct CodecDetectionTests {
    // First bytes as the real tools write them (zstd 1.5, lz4 1.9, bzip2 1.0, xz 5.4, age 1.1, gpg 2.2).
    static let samples: [([UInt8], Codec)] = [
        ([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0], .gzip),
        ([0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x00], .zstd),
        ([0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7], .lz4),
        ([0x02, 0x21, 0x4c, 0x18, 0, 0, 0, 0], .lz4),
        (Array("BZh91AY&SY".utf8), .bzip2),
        ([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04], .xz),
        (Array("age-encryption.org/v1\n-> X25519 abc\n".utf8), .age),
        (Array("-----BEGIN AGE ENCRYPTED FILE-----\nYWdl".utf8), .age),
        (Array("-----BEGIN PGP MESSAGE-----\n\nhQ".utf8), .openpgp),
        // Old-format public-key encrypted session key packet (tag 1, 2-byte length), version 3.
        ([0x85, 0x01, 0x0c, 0x03, 0x12, 0x34, 0x56, 0x78], .openpgp),
        // Old-format symmetric-key encrypted session key packet (tag 3, 1-byte length), version 4.
        ([0x8c, 0x0d, 0x04, 0x09, 0x03, 0x02, 0, 0], .openpgp),
        // New-format public-key session key packet (tag 1), version 3.
        ([0xc1, 0x4c, 0x03, 0x12, 0x34, 0x56, 0x78, 0x9a], .openpgp),
    ]

    @Test("each layer is recognised from its first bytes", arguments: samples)
    func detects(head: [UInt8], codec: Codec) {
        #expect(Codec.detect(head) == codec)
    }

    @Test("dumps, text and other binary data are not taken for a layer")
    func rejects() {
        #expect(Codec.detect(Array("PGDMP\u{01}\u{0e}".utf8)) == nil)
        #expect(Codec.detect(Array("--\n-- PostgreSQL database dump\n".utf8)) == nil)
        #expect(Codec.detect([]) == nil)
        #expect(Codec.detect(Array("BZh0".utf8)) == nil, "bzip2 block sizes are 1 to 9")
        #expect(Codec.detect([0x85, 0x01, 0x0c, 0x09, 0, 0]) == nil, "a session key packet of an unknown version")
        #expect(Codec.detect([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) == nil, "a PNG file")
        #expect(Codec.detect([0x28, 0xb5, 0x2f]) == nil, "too short")
    }

    @Test("the format detector hands layered backups to decoding; gzip alone stays a plain.gz dump")
    func formatDetector() {
        #expect(FormatDetector.detect(fileHead: [0x28, 0xb5, 0x2f, 0xfd, 0x24]) == .format(.encoded))
        #expect(FormatDetector.detect(fileHead: Array("age-encryption.org/v1\n".utf8)) == .format(.encoded))
        #expect(FormatDetector.detect(fileHead: [0x1f, 0x8b, 8, 0]) == .format(.plainGzip))
        #expect(BackupFormat.encoded.canStream)
        #expect(!BackupFormat.encoded.usesPgRestore)
    }

    @Test("decoding stages: no key material is ever an argument, only a path or descriptor 3")
    func stages() {
        #expect(DecodingStage.make(.zstd).arguments == ["-dcq"])
        #expect(DecodingStage.make(.xz).arguments == ["-dc"])
        #expect(DecodingStage.make(.age, ageIdentity: "/keys/age.key").arguments == ["--decrypt", "--identity", "/keys/age.key"])
        #expect(DecodingStage.make(.age, identityFromPipe: true).arguments == ["--decrypt", "--identity", "/dev/fd/3"])
        let gpg = DecodingStage.make(.openpgp, gpgHome: "/tmp/drill-gnupg-x", passphraseFromPipe: true).arguments
        #expect(gpg.starts(with: ["--homedir", "/tmp/drill-gnupg-x", "--batch"]))
        #expect(gpg.contains("--passphrase-fd") && !gpg.contains("--passphrase"))
        #expect(gpg.last == "--decrypt")
    }

    @Test("reports and refusals name the layers")
    func descriptions() {
        let found = DecodedFormat(codecs: [.age, .zstd], format: .custom)
        #expect(found.description == "age-encrypted, zstd-compressed, custom")
        #expect(DecryptConfig.missingKey(for: .age, in: nil)?.contains("backup.decrypt.age_identity") == true)
        #expect(DecryptConfig.missingKey(for: .openpgp, in: DecryptConfig(ageIdentity: "/k"))?.contains("gpg_homedir") == true)
        #expect(DecryptConfig.missingKey(for: .age, in: DecryptConfig(ageIdentityEnv: "K")) == nil)
        #expect(DecryptConfig.missingKey(for: .zstd, in: nil) == nil)
    }
}

@Suite("backup.decrypt in drill files")
struct DecryptConfigTests {
    let tiers: [String: TierConfig] = ["critical": TierConfig(name: "critical", rto: .init(seconds: 3600), rpo: .init(seconds: 300))]

    func parse(_ decrypt: String) throws -> (DrillConfig?, [String]) {
        let json = #"{ "version": 1, "tier": "critical", "backup": { "location": "/b", "decrypt": \#(decrypt) } }"#
        let r = ConfigReader(file: "drills/x.json")
        let d = DrillConfig.parse(try JSONValue.parse(Data(json.utf8)), name: "x", file: "drills/x.json", tiers: tiers, reader: r)
        return (d, r.issues.map(\.description))
    }

    @Test func parsesKeySources() throws {
        let (d, issues) = try parse(#"{ "age_identity": "/keys/age.key", "gpg_homedir": "/keys/gnupg", "gpg_passphrase_env": "SHOP_GPG_PASS" }"#)
        #expect(issues.isEmpty)
        #expect(d?.backup.decrypt == DecryptConfig(ageIdentity: "/keys/age.key", gpgHomedir: "/keys/gnupg", gpgPassphraseEnv: "SHOP_GPG_PASS"))
    }

    @Test("mistakes are named with their key", arguments: [
        (#"{}"#, "backup.decrypt"),
        (#"{ "age_identity": "/a", "age_identity_env": "A" }"#, "not both"),
        (#"{ "age_identity_env": "AGE-SECRET-KEY-1QQQ" }"#, "backup.decrypt.age_identity_env"),
        (#"{ "age_key": "/a" }"#, "age_key"),
        (#"{ "gpg_homedir": "" }"#, "backup.decrypt.gpg_homedir"),
    ])
    func rejects(decrypt: String, mentions: String) throws {
        let (_, issues) = try parse(decrypt)
        #expect(issues.contains { $0.contains(mentions) }, "issues: \(issues)")
    }

    @Test("a relative key path is resolved against the drill file's folder")
    func resolvesPaths() throws {
        let (d, _) = try parse(#"{ "age_identity": "keys/age.key" }"#)
        let resolved = try #require(d).settings.resolvingPaths { "/cfg/" + $0 } as? DumpSettings
        #expect(resolved?.backup.decrypt?.ageIdentity == "/cfg/keys/age.key")
    }
}
