import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

@Suite("pg_dumpall cluster dumps: roles and every database into the embedded scratch cluster", .serialized, .timeLimit(.minutes(5)))
struct DumpAllTests {
    /// Text in the cluster dump that a restore never puts into the scratch cluster (a role's and a database's setting,
    /// which drill does not restore): any file holding it was written from the dump's plaintext.
    static let marker = "drill-plaintext-marker-dumpall"

    /// A cluster of its own (two databases, three roles), dumped once with pg_dumpall.
    actor Cluster {
        static let shared = Cluster()
        let source = PhysicalSource()
        private var made: Task<String, any Error>?
        private let folder: TempFolder = {
            let f = TempFolder("dumpall")
            ExitCleanup.register(pid: nil, paths: [f.path])
            return f
        }()

        func dump() async throws -> String {
            if made == nil {
                let source = self.source, path = folder.file("cluster.sql")
                made = Task {
                    try await source.psql("""
                        CREATE ROLE alice LOGIN PASSWORD 'alice-secret-never-restored';
                        CREATE ROLE bob NOLOGIN;
                        CREATE ROLE carol SUPERUSER;
                        GRANT bob TO alice;
                        GRANT pg_read_server_files TO carol;
                        ALTER ROLE bob SET drill.marker = '\(DumpAllTests.marker)-role';
                        """)
                    try await source.psql("CREATE DATABASE shop_a OWNER alice")
                    try await source.psql("CREATE DATABASE shop_b")
                    try await source.psql("ALTER DATABASE shop_b SET drill.marker = '\(DumpAllTests.marker)-database'")
                    try await source.psql("CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT i, 'a' || i FROM generate_series(1, 30) i; ALTER TABLE items OWNER TO alice; GRANT SELECT ON items TO bob;",
                                          database: "shop_a")
                    try await source.psql("CREATE TABLE orders (id int PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now()); INSERT INTO orders (id) SELECT generate_series(1, 70);",
                                          database: "shop_b")
                    try await source.dump(nil, ["-f", path])
                    return path
                }
            }
            return try await made!.value
        }
    }

    static func drill(_ location: String, target: String = #"{ "kind": "embedded" }"#, endpoint: String? = nil, decrypt: String? = nil,
                      moreChecks: String = "") -> String {
        """
        { "version": 1, "tier": "critical",
          "backup": { "location": "\(location)", "settle": "0s"\(endpoint.map { #", "endpoint": "\#($0)""# } ?? "")\(decrypt.map { #", "decrypt": \#($0)"# } ?? "") },
          "target": \(target),
          "database": "shop_b",
          "restore": { "profile": "fast" },
          "checks": [\(moreChecks)
            { "name": "in shop_b", "sql": "SELECT (current_database() = 'shop_b')::int", "expect": { "equals": 1 } },
            { "name": "orders", "sql": "SELECT count(*) FROM orders", "expect": { "equals": 70 } },
            { "name": "roles exist", "sql": "SELECT count(*) FROM pg_roles WHERE rolname IN ('alice', 'bob', 'carol')", "expect": { "equals": 3 } },
            { "name": "no superuser restored", "sql": "SELECT count(*) FROM pg_roles WHERE rolname IN ('alice', 'bob', 'carol') AND (rolsuper OR rolcreaterole OR rolbypassrls)", "expect": { "equals": 0 } },
            { "name": "membership", "sql": "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = 'bob' AND u.rolname = 'alice'", "expect": { "equals": 1 } },
            { "name": "no file-reading membership", "sql": "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE r.rolname = 'pg_read_server_files'", "expect": { "equals": 0 } }
          ] }
        """
    }

    @Test("both databases are restored, the roles exist (without their privileges or passwords), the checks run in the named database")
    func restoresTheCluster() async throws {
        let folder = TempFolder("dumpall-ok")
        let backups = folder.sub("backups")
        _ = try copy(try await Cluster.shared.dump(), into: backups, as: "cluster.sql")
        let report = try await runDrill(Self.drill(backups), in: folder)
        #expect(report.status == .compliant, "findings: \(report.findings) checks: \(report.checks.map { "\($0.name)=\($0.observed ?? $0.error ?? "")" })")
        #expect(report.backup.format == "dumpall")
        let dbs = try #require(report.restore.databases)
        #expect(Set(dbs.map(\.name)).isSuperset(of: ["shop_a", "shop_b", "postgres"]), "\(dbs)")
        #expect(dbs.allSatisfy { ($0.sizeBytes ?? 0) > 0 })
        #expect(!dbs.contains { $0.name == "template1" })
        #expect(report.findings.contains { $0.contains("restored 3 roles") && $0.contains("SUPERUSER of role carol") && $0.contains("PASSWORD of role alice") })
        #expect(!report.findings.joined().contains("alice-secret"))
        #expect(report.postgres?.backupVersion?.major == 15)
        expectNothingLeft(folder)
    }

    @Test("on a server target a cluster dump, bare or inside zstd, is refused with a reason (exit 2), before anything is created",
          arguments: [nil, Codec.zstd] as [Codec?])
    func refusedOnAServer(codec: Codec?) async throws {
        let folder = TempFolder("dumpall-srv")
        let backups = folder.sub("backups")
        if let codec {
            try await EncodedDumps.compress(try await Cluster.shared.dump(), with: codec, to: (backups as NSString).appendingPathComponent("cluster.sql.zst"))
        } else {
            _ = try copy(try await Cluster.shared.dump(), into: backups, as: "cluster.sql")
        }
        let url = try await SourceDatabase.shared.passwordURL()
        let before = try await SourceDatabase.shared.databases()
        let report = try await runDrill(Self.drill(backups, target: #"{ "kind": "server", "url": "\#(url)" }"#), in: folder)
        #expect(report.status == .failed)
        #expect(report.failureCode == "configuration")
        #expect(ExitCode(report) == .usage)
        #expect(report.findings.contains { $0.contains("pg_dumpall cluster dump") && $0.contains("embedded") }, "\(report.findings)")
        #expect(report.findings.contains { $0.contains("zstd-compressed") } == (codec != nil), "\(report.findings)")
        #expect(!report.phases.contains { $0.name == "provision" })
        #expect(try await SourceDatabase.shared.databases() == before)
        expectNothingLeft(folder)
    }

    // MARK: - Inside compression and encryption layers

    /// The keys of a wrapped dump: the `backup.decrypt` that opens it, one that does not, and GnuPG homes to remove.
    struct Keys {
        var decrypt: String?
        var wrong: String?
        var gnupgHomes: [String] = []
        func remove() async { for h in gnupgHomes { await EncodedDumps.removeGnuPGHome(h) } }
    }

    /// Writes `plain` wrapped in `layers`, innermost first (`[.zstd, .age]` is `pg_dumpall | zstd | age -r …`), into
    /// `dest`, with the real tools; the keys go into `keys`.
    static func wrap(_ plain: String, in layers: [Codec], into dest: String, keys folder: String) async throws -> Keys {
        var keys = Keys()
        var current = plain
        for (i, codec) in layers.enumerated() {
            let out = i == layers.count - 1 ? dest : (folder as NSString).appendingPathComponent("layer-\(i)")
            switch codec {
            case .age:
                let (identity, recipient) = try await EncodedDumps.ageIdentity(in: folder)
                let (wrong, _) = try await EncodedDumps.ageIdentity(in: folder, name: "wrong.key")
                try await EncodedDumps.ageEncrypt(current, to: recipient, into: out)
                keys.decrypt = #"{ "age_identity": "\#(identity)" }"#
                keys.wrong = #"{ "age_identity": "\#(wrong)" }"#
            case .openpgp:
                let home = try await EncodedDumps.gnupgHome(email: "cluster@drill.invalid")
                keys.gnupgHomes.append(home)
                let other = try await EncodedDumps.gnupgHome(email: "other@drill.invalid")
                keys.gnupgHomes.append(other)
                try await EncodedDumps.gpgEncrypt(current, home: home, to: "cluster@drill.invalid", into: out)
                keys.decrypt = #"{ "gpg_homedir": "\#(home)" }"#
                keys.wrong = #"{ "gpg_homedir": "\#(other)" }"#
            default:
                try await EncodedDumps.compress(current, with: codec, to: out)
            }
            if current != plain { try FileManager.default.removeItem(atPath: current) }
            current = out
        }
        return keys
    }

    @Test("a cluster dump inside compression or encryption layers restores like a bare one; no file under the scratch root holds its plaintext, after the fetch or the restore",
          arguments: [[Codec.zstd], [.gzip], [.lz4], [.bzip2], [.xz], [.zstd, .age], [.gzip, .openpgp]])
    func layered(layers: [Codec]) async throws {
        let folder = TempFolder("dumpall-\(layers.map(\.rawValue).joined(separator: "-"))")
        let backups = folder.sub("backups"), keys = folder.sub("keys"), scratch = folder.sub("scratch")
        let plain = try await Cluster.shared.dump()
        #expect(try String(contentsOfFile: plain, encoding: .utf8).components(separatedBy: Self.marker).count == 3,
                "the marker is in the plaintext twice: a role's setting and, far down, a database's")
        let file = (backups as NSString).appendingPathComponent("cluster-nightly")
        let k = try await Self.wrap(plain, in: layers, into: file, keys: keys)
        let scan = ScanOnPhase(phases: [.restore, .checks], roots: [scratch], marker: Self.marker)
        let report = try await runObservedDrill(Self.drill(backups, decrypt: k.decrypt), in: folder, observer: scan)
        let agents = EncodedDumps.gpgAgents(homeContaining: scratch)
        await k.remove()
        #expect(report.status == .compliant, "findings: \(report.findings) checks: \(report.checks.map { "\($0.name)=\($0.observed ?? $0.error ?? "")" })")
        #expect(report.backup.format == (layers == [.gzip] ? "plain.gz" : "encoded"))
        #expect(report.backup.contentFormat == "dumpall")
        #expect(report.backup.encoding == layers.reversed().map(\.rawValue))
        #expect(report.backup.sha256 == (try SHA256Hasher.hex(ofFile: file).digest))
        #expect(report.restore.tool == "psql (pg_dumpall)")
        #expect(report.restore.mode == "stream")
        let dbs = try #require(report.restore.databases)
        #expect(Set(dbs.map(\.name)).isSuperset(of: ["shop_a", "shop_b", "postgres"]), "\(dbs)")
        #expect(dbs.allSatisfy { ($0.sizeBytes ?? 0) > 0 })
        #expect(report.findings.contains { $0.contains("restored 3 roles") && $0.contains("SUPERUSER of role carol") && $0.contains("PASSWORD of role alice") })
        #expect(report.postgres?.backupVersion?.major == 15)
        #expect(report.postgres?.backupVersionSource == "cluster dump's header comment inside \(layers.reversed().map(\.rawValue).joined(separator: "+"))",
                "\(String(describing: report.postgres))")
        #expect(report.checks.count == 6 && report.checks.allSatisfy(\.passed))
        #expect(scan.hits == [], "plaintext under the scratch root: \(scan.hits ?? ["the restore or the checks never started"])")
        #expect(agents.isEmpty, "gpg-agent left running")
        expectNothingLeft(folder)
    }

    @Test("a wrong key fails a layered cluster dump before anything is provisioned (exit 3) without showing the key",
          arguments: [Codec.age, .openpgp])
    func wrongKey(codec: Codec) async throws {
        let folder = TempFolder("dumpall-key-\(codec.rawValue)")
        let backups = folder.sub("backups"), keys = folder.sub("keys"), scratch = folder.sub("scratch")
        let k = try await Self.wrap(try await Cluster.shared.dump(), in: [.zstd, codec], into: (backups as NSString).appendingPathComponent("cluster.sql.zst.enc"), keys: keys)
        let report = try await runDrill(Self.drill(backups, decrypt: k.wrong), in: folder)
        let agents = EncodedDumps.gpgAgents(homeContaining: scratch)
        await k.remove()
        #expect(report.status == .failed)
        #expect(ExitCode(report) == .failed)
        #expect(report.failureCode == "decryption_failed", "findings: \(report.findings)")
        #expect(report.findings.contains { $0.contains("\(codec.tool) could not decrypt cluster.sql.zst.enc") }, "findings: \(report.findings)")
        #expect(!report.phases.contains { $0.name == "provision" })
        let text = try reportText(report)
        #expect(!text.contains("AGE-SECRET-KEY") && !text.contains("PRIVATE KEY"))
        if codec == .age {
            let secret = try String(contentsOfFile: (keys as NSString).appendingPathComponent("wrong.key"), encoding: .utf8)
                .split(separator: "\n").first { $0.hasPrefix("AGE-SECRET-KEY-") }
            #expect(!text.contains(String(try #require(secret))))
        }
        #expect(agents.isEmpty, "gpg-agent left running")
        expectNothingLeft(folder)
    }

    @Test("a bare and a zstd-compressed cluster dump stream from S3 (moto) into the restore, nothing staged", arguments: [nil, Codec.zstd] as [Codec?])
    func fromS3(codec: Codec?) async throws {
        let folder = TempFolder("dumpall-s3")
        let plain = try await Cluster.shared.dump()
        var file = plain
        if let codec {
            file = folder.file("cluster.sql.\(codec.rawValue)")
            try await EncodedDumps.compress(plain, with: codec, to: file)
        }
        let (moto, bucket) = try await uploadToMoto([(file, "cluster-20260101.sql")], "dumpall\(codec?.rawValue ?? "bare")")
        let report = try await runS3Drill(Self.drill("s3://\(bucket)/nightly/", endpoint: moto.endpoint), moto: moto, in: folder)
        #expect(report.status == .compliant, "findings: \(report.findings) checks: \(report.checks.map { "\($0.name)=\($0.observed ?? $0.error ?? "")" })")
        #expect(report.backup.format == (codec == nil ? "dumpall" : "encoded"))
        #expect(report.backup.contentFormat == (codec == nil ? nil : "dumpall"))
        #expect(report.restore.mode == "stream")
        #expect(report.backup.sha256 == (try SHA256Hasher.hex(ofFile: file).digest))
        #expect(Set(try #require(report.restore.databases).map(\.name)).isSuperset(of: ["shop_a", "shop_b", "postgres"]))
        expectNothingLeft(folder)
        #expect(folder.entries("scratch").isEmpty)
    }

    /// The cluster dump's text with `attack` spliced into its globals (before `-- Databases`) or into the body of
    /// `shop_b`'s section (before its `dump complete` line).
    static func spliced(_ attack: String, intoGlobals: Bool) async throws -> String {
        let text = try String(contentsOfFile: try await Cluster.shared.dump(), encoding: .utf8)
        let at: String.Index
        if intoGlobals {
            at = try #require(text.range(of: "--\n-- Databases\n--")).lowerBound
        } else {
            let section = try #require(text.range(of: "-- Database \"shop_b\" dump"))
            at = try #require(text.range(of: "-- PostgreSQL database dump complete", range: section.upperBound..<text.endIndex)).lowerBound
        }
        return String(text[..<at]) + attack + "\n\n" + String(text[at...])
    }

    /// (case, SQL spliced into shop_b's section (MARKER: a file it would create), text the finding must name): the
    /// plain-dump attacks of `SandboxTests` that a cluster dump's sections could carry.
    static let sectionAttacks = SandboxTests.plainAttacks.filter { ["copy_program", "alter_system", "role_upper", "role_lower"].contains($0.0) }

    @Test("a hostile cluster dump inside zstd and age: what a database section tries is refused, nothing runs on the host",
          arguments: sectionAttacks.map(\.0))
    func hostileSection(name: String) async throws {
        let (_, attack, named) = try #require(Self.sectionAttacks.first { $0.0 == name })
        let folder = TempFolder("dumpall-evil")
        let marker = (HostileDumps.markerFolder(in: folder) as NSString).appendingPathComponent(name)
        let backups = folder.sub("backups"), keys = folder.sub("keys")
        let plain = folder.file("evil.sql")
        try await Self.spliced(attack.replacingOccurrences(of: "MARKER", with: marker), intoGlobals: false)
            .write(toFile: plain, atomically: true, encoding: .utf8)
        let k = try await Self.wrap(plain, in: [.zstd, .age], into: (backups as NSString).appendingPathComponent("cluster-evil"), keys: keys)
        try FileManager.default.removeItem(atPath: plain)
        let report = try await runDrill(Self.drill(backups, decrypt: k.decrypt), name: "evil", in: folder)
        #expect(report.status == .failed, "findings: \(report.findings)")
        let findings = report.findings.joined(separator: "\n")
        #expect(findings.contains("database shop_b of the cluster dump"), "\(findings)")
        #expect(findings.contains("refused"), "\(findings)")
        #expect(findings.contains(named), "the finding names the statement: \(findings)")
        try await Task.sleep(for: .milliseconds(300))  // a program that ran would have had the time to write
        #expect(!FileManager.default.fileExists(atPath: marker), "the attack ran")
        #expect(report.scratch.removed)
        expectNothingLeft(folder)
    }

    @Test("a hostile cluster dump's globals inside zstd and age (SUPERUSER, a password, ALTER SYSTEM, COPY … TO PROGRAM, a pg_* membership) are read as data: the role is restored with LOGIN only, nothing else runs")
    func hostileGlobals() async throws {
        let folder = TempFolder("dumpall-evilg")
        let marker = (HostileDumps.markerFolder(in: folder) as NSString).appendingPathComponent("globals")
        let backups = folder.sub("backups"), keys = folder.sub("keys"), scratch = folder.sub("scratch")
        let plain = folder.file("evil.sql")
        let attack = """
            CREATE ROLE evil;
            ALTER ROLE evil WITH SUPERUSER CREATEROLE LOGIN PASSWORD 'evil-password-never-restored';
            ALTER SYSTEM SET archive_command = 'touch \(marker)';
            COPY (SELECT 1) TO PROGRAM 'touch \(marker)';
            GRANT pg_execute_server_program TO evil;
            """
        try await Self.spliced(attack, intoGlobals: true).write(toFile: plain, atomically: true, encoding: .utf8)
        let k = try await Self.wrap(plain, in: [.zstd, .age], into: (backups as NSString).appendingPathComponent("cluster-evil"), keys: keys)
        try FileManager.default.removeItem(atPath: plain)
        let checks = """
            { "name": "evil has LOGIN only", "sql": "SELECT count(*) FROM pg_roles WHERE rolname = 'evil' AND rolcanlogin AND NOT rolsuper AND NOT rolcreaterole", "expect": { "equals": 1 } },
            { "name": "no program-running member", "sql": "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE r.rolname = 'pg_execute_server_program'", "expect": { "equals": 0 } },
            """
        // ALTER SYSTEM, had it run, would have written the marker's path into the scratch cluster's postgresql.auto.conf.
        let scan = ScanOnPhase(phases: [.checks], roots: [scratch], marker: marker)
        let report = try await runObservedDrill(Self.drill(backups, decrypt: k.decrypt, moreChecks: checks), in: folder, observer: scan)
        #expect(report.status == .compliant, "findings: \(report.findings) checks: \(report.checks.map { "\($0.name)=\($0.observed ?? $0.error ?? "")" })")
        #expect(report.checks.count == 8)
        #expect(report.findings.contains { $0.contains("restored 4 roles") && $0.contains("SUPERUSER, CREATEROLE, PASSWORD of role evil")
                && $0.contains("membership of evil in pg_execute_server_program") }, "\(report.findings)")
        #expect(!(try reportText(report)).contains("evil-password"))
        #expect(scan.hits == [], "\(scan.hits ?? ["the checks never started"])")
        try await Task.sleep(for: .milliseconds(300))
        #expect(!FileManager.default.fileExists(atPath: marker), "the attack ran")
        expectNothingLeft(folder)
    }
}
