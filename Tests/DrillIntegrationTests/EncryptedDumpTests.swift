import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Logging
import Testing

/// Looks for a marker string in every file under some folders when phases start (`restore`: the fetch is done;
/// `checks`: the restore is done, the scratch database is live): proof that the decoded plaintext never reached the
/// disk there.
final class ScanOnPhase: PhaseObserver, @unchecked Sendable {
    let phases: [PhaseName], roots: [String], marker: String
    private let lock = NSLock()
    private var _hits: [PhaseName: [String]] = [:]
    convenience init(_ phase: PhaseName, roots: [String], marker: String) {
        self.init(phases: [phase], roots: roots, marker: marker)
    }
    init(phases: [PhaseName], roots: [String], marker: String) {
        (self.phases, self.roots, self.marker) = (phases, roots, marker)
    }
    /// Files holding the marker, at any of the phases; nil when one of them never started.
    var hits: [String]? {
        lock.withLock { phases.allSatisfy { _hits[$0] != nil } ? phases.flatMap { _hits[$0]! } : nil }
    }
    func drillStarted(_ drill: String, tier: String) {}
    func phaseStarted(_ p: PhaseName, detail: String) {
        guard phases.contains(p) else { return }
        let found = roots.flatMap { EncodedDumps.files(under: $0, containing: marker) }
        lock.withLock { _hits[p] = found }
    }
    func phaseFinished(_ phase: PhaseName, seconds: Double, ok: Bool, detail: String) {}
    func transfer(done: Int64, total: Int64?) {}
    func note(_ text: String) {}
}

/// Runs one drill in-process with the live dependencies and an observer of its phases.
func runObservedDrill(_ json: String, in folder: TempFolder, observer: any PhaseObserver) async throws -> DrillReport {
    let config = try ConfigFixture(in: folder, drills: ["shop": json]).load()
    let deps = await LiveDependencies.make(scratchRoot: folder.sub("scratch"), drillVersion: "test",
                                           logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    let drill = try #require(config.drills.first)
    return await DrillRunner(deps: deps, clock: ContinuousClock(), observer: observer).run(drill, tier: config.tier(of: drill))
}

/// The report as JSON text (to check that no key material is anywhere in it).
func reportText(_ report: DrillReport) throws -> String {
    String(decoding: try JSONEncoder().encode(report), as: UTF8.self)
}

@Suite("Encrypted dumps: age and OpenPGP, decrypted on the fly, never on disk", .serialized, .timeLimit(.minutes(6)))
struct EncryptedDumpTests {
    @Test("an age-encrypted custom dump restores with the right identity file; a wrong one fails with exit 3 and shows no key")
    func ageCustom() async throws {
        let folder = TempFolder("age-custom")
        let keys = folder.sub("keys"), backups = folder.sub("backups")
        let (identity, recipient) = try await EncodedDumps.ageIdentity(in: keys)
        let (wrong, _) = try await EncodedDumps.ageIdentity(in: keys, name: "wrong.key")
        try await EncodedDumps.ageEncrypt(try await Shop.shared.dump(.custom), to: recipient, into: (backups as NSString).appendingPathComponent("shop.dump.age"))

        let report = try await runDrill(encodedDrill(location: backups, decrypt: #"{ "age_identity": "\#(identity)" }"#), in: folder, environment: [:])
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.backup.encoding == ["age"])
        #expect(report.backup.contentFormat == "custom")
        #expect(report.backup.sourceDatabase == "shop")
        #expect(report.checks.map(\.observed) == ["100000", "\(Shop.orders)", "0"])
        expectNothingLeft(folder)

        let refused = try await runDrill(encodedDrill(location: backups, decrypt: #"{ "age_identity": "\#(wrong)" }"#), in: folder, environment: [:])
        #expect(refused.status == .failed)
        #expect(ExitCode(refused) == .failed)
        #expect(refused.failureCode == "decryption_failed")
        #expect(refused.findings.contains { $0.contains("age could not decrypt shop.dump.age") }, "findings: \(refused.findings)")
        let secret = try String(contentsOfFile: wrong, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-") }
        let text = try reportText(refused)
        #expect(!text.contains(String(try #require(secret))))
        #expect(!text.contains("AGE-SECRET-KEY"))
        expectNothingLeft(folder)
    }

    @Test("drill run: an age-encrypted, zstd-compressed plain dump with the identity in a variable; a wrong identity exits 3 without showing it")
    func ageChainedThroughBinary() async throws {
        let folder = TempFolder("age-bin")
        let keys = folder.sub("keys"), backups = folder.sub("backups")
        let (identity, recipient) = try await EncodedDumps.ageIdentity(in: keys)
        let (wrong, _) = try await EncodedDumps.ageIdentity(in: keys, name: "wrong.key")
        let zst = folder.file("shop.sql.zst")
        try await EncodedDumps.compress(try await Shop.shared.dump(.plain), with: .zstd, to: zst)
        try await EncodedDumps.ageEncrypt(zst, to: recipient, into: (backups as NSString).appendingPathComponent("shop-nightly"), armor: true)
        try FileManager.default.removeItem(atPath: zst)
        let config = try ConfigFixture(in: folder, drills: ["shop": encodedDrill(location: backups, decrypt: #"{ "age_identity_env": "SHOP_AGE_IDENTITY" }"#)])
        for (key, exit) in [(identity, Int32(0)), (wrong, Int32(3))] {
            let material = try String(contentsOfFile: key, encoding: .utf8)
            let archive = folder.sub("archive-\(exit)")
            let run = try await DrillBinary.run(["run", "shop", "--config", config.directory, "--archive", archive],
                                                environment: ["SHOP_AGE_IDENTITY": material, "DRILL_SCRATCH_DIR": folder.sub("scratch")])
            #expect(run.exitCode == exit, "\(run.output)")
            #expect(!run.output.contains("AGE-SECRET-KEY"))
            let report = try #require(try await ReportArchive(storage: LocalArchiveStorage(root: archive)).reports().reports.first?.report)
            #expect(!(try reportText(report)).contains("AGE-SECRET-KEY"))
            if exit == 0 {
                #expect(report.status == .compliant, "findings: \(report.findings)")
                #expect(report.backup.encoding == ["age", "zstd"])
                #expect(report.backup.contentFormat == "plain")
            } else {
                #expect(report.failureCode == "decryption_failed")
            }
        }
        expectNothingLeft(folder)
    }

    @Test("an OpenPGP-encrypted custom dump restores with the right GnuPG home, a plain one fails with a wrong home (exit 3); no gpg-agent is left")
    func gpg() async throws {
        let folder = TempFolder("gpg")
        let backups = folder.sub("backups"), plainBackups = folder.sub("plain")
        let home = try await EncodedDumps.gnupgHome(email: "shop@drill.invalid")
        let other = try await EncodedDumps.gnupgHome(email: "other@drill.invalid")
        defer { Task { await EncodedDumps.removeGnuPGHome(home); await EncodedDumps.removeGnuPGHome(other) } }
        try await EncodedDumps.gpgEncrypt(try await Shop.shared.dump(.custom), home: home, to: "shop@drill.invalid",
                                          into: (backups as NSString).appendingPathComponent("shop.dump.gpg"))
        try await EncodedDumps.gpgEncrypt(try await Shop.shared.dump(.plain), home: home, to: "shop@drill.invalid",
                                          into: (plainBackups as NSString).appendingPathComponent("shop.sql.asc"), armor: true)
        let before = try FileManager.default.subpathsOfDirectory(atPath: home).sorted()

        let report = try await runDrill(encodedDrill(location: backups, decrypt: #"{ "gpg_homedir": "\#(home)" }"#), in: folder, environment: [:])
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.backup.encoding == ["openpgp"])
        #expect(report.backup.contentFormat == "custom")
        #expect(EncodedDumps.gpgAgents(homeContaining: "drill-gnupg-").isEmpty, "gpg-agent left running")
        #expect(try FileManager.default.subpathsOfDirectory(atPath: home).sorted() == before, "the GnuPG home was written into")

        let good = try await runDrill(encodedDrill(location: plainBackups, decrypt: #"{ "gpg_homedir": "\#(home)" }"#), in: folder, environment: [:])
        #expect(good.status == .compliant, "findings: \(good.findings)")
        #expect(good.backup.contentFormat == "plain")

        let refused = try await runDrill(encodedDrill(location: plainBackups, decrypt: #"{ "gpg_homedir": "\#(other)" }"#), in: folder, environment: [:])
        #expect(refused.status == .failed)
        #expect(ExitCode(refused) == .failed)
        #expect(refused.failureCode == "decryption_failed")
        #expect(refused.findings.contains { $0.contains("gpg could not decrypt shop.sql.asc") }, "findings: \(refused.findings)")
        #expect(!(try reportText(refused)).contains("PRIVATE KEY"))
        #expect(EncodedDumps.gpgAgents(homeContaining: "drill-gnupg-").isEmpty, "gpg-agent left running")
        #expect(!folder.entries("scratch").contains { $0.hasPrefix("drill-gnupg-") }, "the private GnuPG home is removed")
        expectNothingLeft(folder)
    }

    @Test("an encrypted backup without backup.decrypt fails and says which key to give")
    func noKey() async throws {
        let folder = TempFolder("age-nokey")
        let keys = folder.sub("keys"), backups = folder.sub("backups")
        let (_, recipient) = try await EncodedDumps.ageIdentity(in: keys)
        try await EncodedDumps.ageEncrypt(try await Shop.shared.dump(.plain), to: recipient, into: (backups as NSString).appendingPathComponent("shop.sql.age"))
        let report = try await runDrill(encodedDrill(location: backups), in: folder, environment: [:])
        #expect(report.failureCode == "decryption_failed")
        #expect(report.findings.contains { $0.contains("backup.decrypt.age_identity") }, "findings: \(report.findings)")
        expectNothingLeft(folder)
    }

    @Test("no plaintext reaches the disk: while the checks run, no file under the drill's folders holds the dump's marker",
          arguments: [Codec.age, .openpgp])
    func noPlaintextOnDisk(codec: Codec) async throws {
        let folder = TempFolder("noplain")
        let backups = folder.sub("backups"), keys = folder.sub("keys")
        let db = "codec_marker_\(codec.rawValue)"
        let marker = "drill-plaintext-marker-\(codec.rawValue)"
        try await SourceDatabase.shared.psql("DROP DATABASE IF EXISTS \(db)")
        try await SourceDatabase.shared.psql("CREATE DATABASE \(db)")
        try await SourceDatabase.shared.psql("CREATE TABLE secrets (note text); INSERT INTO secrets SELECT 'drill-plaintext-' || 'marker-\(codec.rawValue) ' || i FROM generate_series(1, 3) i;", database: db)
        let plain = folder.file("dump.sql")
        try await SourceDatabase.shared.dump(db, to: plain, format: .plain)
        #expect(!EncodedDumps.files(under: folder.path, containing: marker).isEmpty, "the marker is in the plain dump")
        let out = (backups as NSString).appendingPathComponent("shop-secret")
        var decrypt: String
        var gnupg: String?
        if codec == .age {
            let (identity, recipient) = try await EncodedDumps.ageIdentity(in: keys)
            try await EncodedDumps.ageEncrypt(plain, to: recipient, into: out)
            decrypt = #"{ "age_identity": "\#(identity)" }"#
        } else {
            let home = try await EncodedDumps.gnupgHome(email: "marker@drill.invalid")
            gnupg = home
            try await EncodedDumps.gpgEncrypt(plain, home: home, to: "marker@drill.invalid", into: out)
            decrypt = #"{ "gpg_homedir": "\#(home)" }"#
        }
        try FileManager.default.removeItem(atPath: plain)
        #expect(EncodedDumps.files(under: folder.path, containing: marker).isEmpty)
        // A server target: the restored rows live in the server's own data folder, away from the drill's folders.
        let url = try await SourceDatabase.shared.passwordURL()
        let scan = ScanOnPhase(.checks, roots: [folder.path] + (gnupg.map { [$0] } ?? []), marker: marker)
        let checks = #"[ { "name": "secrets", "sql": "SELECT count(*) FROM secrets", "expect": { "equals": 3 } } ]"#
        let report = try await runObservedDrill(encodedDrill(location: backups, decrypt: decrypt, target: #"{ "kind": "server", "url": "\#(url)" }"#,
                                                              checks: checks), in: folder, observer: scan)
        if let gnupg { await EncodedDumps.removeGnuPGHome(gnupg) }
        try await SourceDatabase.shared.psql("DROP DATABASE IF EXISTS \(db)")
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.backup.encoding == [codec.rawValue])
        #expect(scan.hits == [], "plaintext on disk: \(scan.hits ?? ["the checks never started"])")
        expectNothingLeft(folder)
    }
}
