import DrillCore
import Foundation
import Testing

/// pgBackRest's outputs as 2.45 prints them (captured from real runs on this machine), and the drill file's keys.
@Suite("pgBackRest: drill file keys, info JSON, verify text, repo-ls listing")
struct PgBackRestParsingTests {
    let tiers: [String: TierConfig] = ["critical": TierConfig(name: "critical", rto: .init(seconds: 3600), rpo: .init(seconds: 300))]

    func parse(_ backup: String) throws -> (PgBackRestSettings?, [String]) {
        let r = ConfigReader(file: "drills/x.json")
        let json = #"{ "version": 1, "tier": "critical", "backup": \#(backup) }"#
        let d = DrillConfig.parse(try JSONValue.parse(Data(json.utf8)), name: "x", file: "drills/x.json", tiers: tiers, reader: r)
        return (d?.settings as? PgBackRestSettings, r.issues.map(\.description))
    }

    // MARK: Drill file

    @Test func settingsParse() throws {
        let (s, issues) = try parse("""
            { "kind": "pgbackrest", "stanza": "prod", "config": "conf/pgbackrest.conf", "repo": 2, "set": "20261201-210309F_20261201-210340I",
              "options": { "repo2-path": "/var/lib/pgbackrest", "repo2-s3-bucket": "b", "process-max": "4" } }
            """)
        #expect(issues.isEmpty, "\(issues)")
        let settings = try #require(s)
        #expect(settings == PgBackRestSettings(stanza: "prod", config: "conf/pgbackrest.conf",
                                               options: ["repo2-path": "/var/lib/pgbackrest", "repo2-s3-bucket": "b", "process-max": "4"],
                                               repo: 2, set: "20261201-210309F_20261201-210340I"))
        #expect(settings.kind == .pgbackrest && !settings.supportsServerTarget)
        #expect(settings.source == "pgbackrest stanza prod, repo 2 (conf/pgbackrest.conf)")
        let resolved = try #require(settings.resolvingPaths { "/etc/drill/" + $0 } as? PgBackRestSettings)
        #expect(resolved.config == "/etc/drill/conf/pgbackrest.conf")
        #expect(resolved.options == settings.options, "options are passed as written")

        let (d, none) = try parse(#"{ "kind": "pgbackrest", "stanza": "main" }"#)
        #expect(none.isEmpty)
        #expect(d == PgBackRestSettings(stanza: "main"))
    }

    @Test("secrets are refused in the drill file, naming the key and where the secret goes instead",
          arguments: ["repo1-s3-key", "repo1-s3-key-secret", "repo1-s3-token", "repo2-cipher-pass", "repo1-azure-key",
                      "repo1-gcs-key", "repo3-azure-account", "repo1-sftp-private-key-passphrase"])
    func secretsRefused(_ key: String) throws {
        let (s, issues) = try parse(#"{ "kind": "pgbackrest", "stanza": "prod", "options": { "\#(key)": "hunter2" } }"#)
        #expect(s?.options[key] == nil, "the secret is not kept")
        let issue = try #require(issues.first)
        #expect(issues.count == 1)
        #expect(issue.contains("drills/x.json") && issue.contains("backup.options.\(key)") && issue.contains("secret"), "\(issue)")
        #expect(issue.contains(PgBackRestOptions.environmentName(key)))
        #expect(!issue.contains("hunter2"))
    }

    @Test func otherProblemsNameTheKey() throws {
        let cases: [(String, String)] = [
            (#"{ "kind": "pgbackrest" }"#, "backup.stanza"),
            (#"{ "kind": "pgbackrest", "stanza": "a b" }"#, "backup.stanza"),
            (#"{ "kind": "pgbackrest", "stanza": "p", "location": "/x" }"#, "backup.location"),
            (#"{ "kind": "pgbackrest", "stanza": "p", "repo": 0 }"#, "backup.repo"),
            (#"{ "kind": "pgbackrest", "stanza": "p", "set": "latest" }"#, "backup.set"),
            (#"{ "kind": "pgbackrest", "stanza": "p", "options": { "pg1-path": "/x" } }"#, "backup.options.pg1-path"),
            (#"{ "kind": "pgbackrest", "stanza": "p", "options": { "archive-mode": "preserve" } }"#, "backup.options.archive-mode"),
            (#"{ "kind": "pgbackrest", "stanza": "p", "options": { "lock-path": "/tmp" } }"#, "backup.options.lock-path"),
            (#"{ "kind": "pgbackrest", "stanza": "p", "options": { "delta": "y" } }"#, "backup.options.delta"),
            (#"{ "kind": "pgbackrest", "stanza": "p", "options": { "Repo1_Path": "/x" } }"#, "backup.options.Repo1_Path"),
            (#"{ "kind": "pgbackrest", "stanza": "p", "options": { "compress-type": "lz4" } }"#, "backup.options.compress-type"),
            (#"{ "kind": "pgbackrest", "stanza": "p", "options": { "repo1-storage-port": 443 } }"#, "backup.options.repo1-storage-port"),
            (#"{ "kind": "pgbackrest", "stanza": "p", "options": [] }"#, "backup.options"),
        ]
        for (backup, key) in cases {
            let (_, issues) = try parse(backup)
            #expect(issues.contains { $0.contains(": \(key):") || $0.contains(" \(key) ") || $0.contains(key) }, "\(backup): \(issues)")
        }
        // The WAL comes from the repository: a wal object only tunes its delivery.
        let r = ConfigReader(file: "drills/x.json")
        _ = DrillConfig.parse(try JSONValue.parse(Data(#"{ "version": 1, "tier": "critical", "backup": { "kind": "pgbackrest", "stanza": "p" }, "wal": { "location": "/w" } }"#.utf8)),
                              name: "x", file: "drills/x.json", tiers: tiers, reader: r)
        #expect(r.issues.map(\.description) == ["drills/x.json: wal.location: unknown key: a pgbackrest drill's WAL comes from its repository, so its wal object takes only connections and window_mib"],
                "\(r.issues)")
        // And it restores into a private cluster only.
        let t = ConfigReader(file: "drills/x.json")
        _ = DrillConfig.parse(try JSONValue.parse(Data(#"{ "version": 1, "tier": "critical", "backup": { "kind": "pgbackrest", "stanza": "p" }, "target": { "kind": "server", "url": "postgresql://h/db" } }"#.utf8)),
                              name: "x", file: "drills/x.json", tiers: tiers, reader: t)
        #expect(t.issues.contains { $0.description.contains("target.kind") })
    }

    @Test func labelsAndOptionNames() {
        #expect(PgBackRestLabel.isValid("20261201-210309F"))
        #expect(PgBackRestLabel.isValid("20261201-210309F_20261201-210340I"))
        #expect(PgBackRestLabel.isValid("20261201-210309F_20261201-210340D"))
        #expect(!PgBackRestLabel.isValid("20261201-210309I"))
        #expect(!PgBackRestLabel.isValid("20261201-210309F_20261201-210340F"))
        #expect(!PgBackRestLabel.isValid("latest"))
        #expect(PgBackRestOptions.environmentName("repo1-s3-key-secret") == "PGBACKREST_REPO1_S3_KEY_SECRET")
        #expect(PgBackRestOptions.isSecret("repo12-cipher-pass") && !PgBackRestOptions.isSecret("repo1-cipher-type"))
        #expect(PgBackRestOptions.problem(with: "repo1-s3-endpoint") == nil)
        #expect(PgBackRestOptions.problem(with: "repo1-host") == nil)
        #expect(PgBackRestOptions.problem(with: "io-timeout") == nil)
        #expect(PgBackRestOptions.problem(with: "pg2-host") != nil)
        #expect(PgBackRestOptions.problem(with: "repo-1-path") != nil)
    }

    // MARK: info

    /// `pgbackrest info --output=json` of a stanza with a full and an incremental backup (abridged: one db entry).
    static let info = #"""
        [{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":"000000010000000000000008","min":"000000010000000000000001"}],
          "backup":[
           {"archive":{"start":"000000010000000000000003","stop":"000000010000000000000003"},"backrest":{"format":5,"version":"2.45"},
            "database":{"id":1,"repo-key":1},"error":false,"info":{"delta":30652630,"repository":{"delta":4068112,"size":4068112},"size":30652630},
            "label":"20261201-210309F","lsn":{"start":"0/3000028","stop":"0/3000138"},"prior":null,"reference":null,
            "timestamp":{"start":1796158989,"stop":1796159018},"type":"full"},
           {"archive":{"start":"000000010000000000000005","stop":"000000010000000000000005"},"backrest":{"format":5,"version":"2.45"},
            "database":{"id":1,"repo-key":1},"error":false,"info":{"delta":917770,"repository":{"delta":94146,"size":4079017},"size":30726358},
            "label":"20261201-210309F_20261201-210340I","lsn":{"start":"0/5000028","stop":"0/5000100"},"prior":"20261201-210309F",
            "reference":["20261201-210309F"],"timestamp":{"start":1796159020,"stop":1796159022},"type":"incr"}],
          "cipher":"none","db":[{"id":1,"repo-key":1,"system-id":7714444006358806547,"version":"15"}],"name":"prod",
          "repo":[{"cipher":"none","key":1,"status":{"code":0,"message":"ok"}}],
          "status":{"code":0,"lock":{"backup":{"held":false}},"message":"ok"}}]
        """#

    @Test func infoParses() throws {
        let info = try PgBackRestInfo.parse(Data(Self.info.utf8), stanza: "prod")
        #expect(info.status.code == 0 && info.problem(repo: 1) == nil)
        #expect(info.backups.map(\.label) == ["20261201-210309F", "20261201-210309F_20261201-210340I"])
        let incr = info.backups[1]
        #expect(incr.type == "incr" && incr.prior == "20261201-210309F" && incr.reference == ["20261201-210309F"])
        #expect(incr.startedAt == Date(timeIntervalSince1970: 1_796_159_020))
        #expect(incr.stoppedAt == Date(timeIntervalSince1970: 1_796_159_022))
        #expect(incr.endsBy == Date(timeIntervalSince1970: 1_796_159_023), "whole seconds: the next second is after the end")
        #expect(incr.walStart == "000000010000000000000005" && incr.lsnStop == "0/5000100")
        #expect(incr.pgBackRestVersion == "2.45" && incr.error == false && incr.sizeBytes == 30_726_358 && incr.repositorySizeBytes == 4_079_017)
        #expect(info.archive(for: incr)?.id == "15-1" && info.archive(for: incr)?.max == "000000010000000000000008")
        #expect(info.database(for: incr)?.version == "15")
        #expect(throws: PgBackRestInfo.ParseError.stanzaMissing("other")) { try PgBackRestInfo.parse(Data(Self.info.utf8), stanza: "other") }
        #expect(throws: PgBackRestInfo.ParseError.self) { try PgBackRestInfo.parse(Data("ERROR: [055]".utf8), stanza: "prod") }
    }

    @Test func infoProblemsBecomeDrillErrors() throws {
        let missing = #"[{"archive":[],"backup":[],"cipher":"none","db":[],"name":"nope","repo":[{"cipher":"none","key":1,"status":{"code":1,"message":"missing stanza path"}}],"status":{"code":1,"lock":{"backup":{"held":false}},"message":"missing stanza path"}}]"#
        let denied = #"[{"archive":[],"backup":[],"cipher":"none","db":[],"name":"prod","repo":[{"cipher":"none","key":1,"status":{"code":99,"message":"[PathOpenError] unable to list file info for path '/r/backup': [13] Permission denied"}}],"status":{"code":99,"lock":{"backup":{"held":false}},"message":"other"}}]"#
        let m = try PgBackRestInfo.parse(Data(missing.utf8), stanza: "nope")
        let s = PgBackRestSettings(stanza: "nope")
        let e1 = PgBackRestChoice.error(try #require(m.problem(repo: 1)), s)
        #expect(e1.code == .backupNotFound && e1.message.contains("no stanza nope") && e1.message.contains("missing stanza path"))
        let d = try PgBackRestInfo.parse(Data(denied.utf8), stanza: "prod")
        let e2 = PgBackRestChoice.error(try #require(d.problem(repo: 1)), PgBackRestSettings(stanza: "prod"))
        #expect(e2.code == .backupUnreadable && e2.message.contains("Permission denied"), "the repository's own message, not \"other\"")
        let forbidden = PgBackRestInfo.Status(code: 99, message: "[ProtocolError] HTTP request failed with 403 (FORBIDDEN):\n*** Path/Query ***:\nGET /b/?list-type=2\n*** Request Headers ***:\nauthorization: <redacted>\n*** Response Content ***:\n<?xml version=\"1.0\"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message></Error>")
        #expect(forbidden.brief == "[ProtocolError] HTTP request failed with 403 (FORBIDDEN): SignatureDoesNotMatch")
    }

    @Test func choosingTheBackup() throws {
        let info = try PgBackRestInfo.parse(Data(Self.info.utf8), stanza: "prod")
        let s = PgBackRestSettings(stanza: "prod")
        let full = "20261201-210309F", incr = "20261201-210309F_20261201-210340I"
        #expect(try PgBackRestChoice.backup(in: info, settings: s, target: .latest).label == incr)
        #expect(try PgBackRestChoice.backup(in: info, settings: s, target: .random).label == incr)
        // A time: the newest backup that ended (stop + 1 s) by then.
        #expect(try PgBackRestChoice.backup(in: info, settings: s, target: .time(Date(timeIntervalSince1970: 1_796_159_023))).label == incr)
        #expect(try PgBackRestChoice.backup(in: info, settings: s, target: .time(Date(timeIntervalSince1970: 1_796_159_022.5))).label == full)
        #expect(throws: DrillError.self) { try PgBackRestChoice.backup(in: info, settings: s, target: .time(Date(timeIntervalSince1970: 1_796_159_018.5))) }
        do {
            _ = try PgBackRestChoice.backup(in: info, settings: s, target: .time(Date(timeIntervalSince1970: 1_796_159_000)))
        } catch let e as DrillError {
            #expect(e.code == .configuration && e.message.contains("before the end of the oldest backup"))
        }
        // A pinned set: used as it is, refused when missing or when the target is before its end.
        var pinned = s
        pinned.set = full
        #expect(try PgBackRestChoice.backup(in: info, settings: pinned, target: .latest).label == full)
        pinned.set = "20261201-000000F"
        #expect { try PgBackRestChoice.backup(in: info, settings: pinned, target: .latest) } throws: {
            ($0 as? DrillError)?.code == .backupNotFound && "\($0)".contains(full)
        }
        pinned.set = incr
        #expect { try PgBackRestChoice.backup(in: info, settings: pinned, target: .time(Date(timeIntervalSince1970: 1_796_159_021))) } throws: {
            ($0 as? DrillError)?.code == .configuration
        }
        // Another repository's backups are not this one's.
        var other = s
        other.repo = 2
        #expect { try PgBackRestChoice.backup(in: info, settings: other, target: .latest) } throws: {
            ($0 as? DrillError)?.code == .backupNotFound && "\($0)".contains("no backups in repo 2")
        }
    }

    @Test func resourceEstimateUsesTheRestoredSize() {
        // `info.size` is already the restored size: twice it (data and the WAL fetched), not five times as for a
        // compressed dump; nothing is staged.
        let point = RestorePoint(uri: "pgbackrest stanza prod, repo 1", name: "20261201-210309F", format: "pgbackrest full",
                                 sizeBytes: 100 << 20)
        let need = ResourceNeed.estimate(point: point, staged: false, jobs: 1, hostMemoryBytes: 8 << 30)
        #expect(need.diskBytes == 2 * (100 << 20) + (64 << 20))
    }

    // MARK: verify

    /// `pgbackrest verify --output=text --verbose` with one damaged file in the full backup (the incremental backup
    /// uses it too) and a damaged WAL segment; standard error at log level info.
    static let verifyOut = """
        stanza: prod
        status: error
          archiveId: 15-1, total WAL checked: 8, total valid WAL: 7
            missing: 0, checksum invalid: 0, size invalid: 0, other: 1
          backup: 20261201-210309F, status: invalid, total files checked: 1268, total valid files: 1267
            missing: 0, checksum invalid: 1, size invalid: 0, other: 0
          backup: 20261201-210309F_20261201-210340I, status: invalid, total files checked: 1268, total valid files: 1267
            missing: 0, checksum invalid: 1, size invalid: 0, other: 0
          backup: 20261201-210351F, status: valid, total files checked: 1268, total valid files: 1268
            missing: 0, checksum invalid: 0, size invalid: 0, other: 0

        """
    static let verifyErr = """
        INFO: verify command begin 2.45: --no-config --exec-id=1098-a8107180 --log-level-console=off --log-level-file=off --log-level-stderr=info --output=text --repo1-path=/r --stanza=prod
        INFO: invalid result 15-1/0000000100000000/000000010000000000000003-5daa8e3287ef12ba5d3ef548a2f575202aaf6594.gz: [29] raised from local-1 protocol: zlib threw error: [-3] data error
        INFO: invalid checksum '20261201-210309F/pg_data/base/1/2609.gz'
        INFO: stanza: prod
              status: error
        INFO: verify command end: completed successfully (18924ms)

        """

    @Test func verifyParses() throws {
        let v = PgBackRestVerifyResult.parse(stdout: Self.verifyOut, stderr: Self.verifyErr, stanza: "prod")
        #expect(v.status == "error" && !v.isOK)
        #expect(v.archives == [.init(id: "15-1", checked: 8, valid: 7, counts: .init(other: 1))])
        #expect(v.backups.map(\.label) == ["20261201-210309F", "20261201-210309F_20261201-210340I", "20261201-210351F"])
        #expect(v.backup("20261201-210309F")?.counts.checksumInvalid == 1)
        #expect(v.backup("20261201-210351F")?.status == "valid")
        #expect(v.damaged == ["15-1/0000000100000000/000000010000000000000003-5daa8e3287ef12ba5d3ef548a2f575202aaf6594.gz",
                              "20261201-210309F/pg_data/base/1/2609.gz"])
        #expect(v.notes.isEmpty && v.warnings.isEmpty)
        #expect(v.summary.contains("not valid: 20261201-210309F, 20261201-210309F_20261201-210340I") && v.summary.contains("damaged WAL in 15-1 (1)"))

        let info = try PgBackRestInfo.parse(Data(Self.info.utf8), stanza: "prod")
        // The incremental backup uses the full backup's damaged file: restoring it must fail, naming the file.
        let incr = try #require(info.backups.last)
        let problem = try #require(v.problem(for: incr, archiveID: "15-1"))
        #expect(problem.contains("20261201-210309F/pg_data/base/1/2609.gz") && problem.contains("invalid checksum"), "\(problem)")
        // The damaged WAL segment (…03) is before the incremental backup's start (…05): not needed, not named.
        #expect(!problem.contains("WAL archive"), "\(problem)")
        // From the full backup (start …03) the damaged segment is needed.
        let fullProblem = try #require(v.problem(for: info.backups[0], archiveID: "15-1"))
        #expect(fullProblem.contains("WAL archive 15-1") && fullProblem.contains("000000010000000000000003-5daa"), "\(fullProblem)")
    }

    @Test func verifyOfAGoodRepositoryAndOfNone() throws {
        let good = """
            stanza: prod
            status: ok
              archiveId: 15-1, total WAL checked: 8, total valid WAL: 8
                missing: 0, checksum invalid: 0, size invalid: 0, other: 0
              backup: 20261201-210309F, status: valid, total files checked: 1268, total valid files: 1268
                missing: 0, checksum invalid: 0, size invalid: 0, other: 0
            """
        let v = PgBackRestVerifyResult.parse(stdout: good, stderr: "", stanza: "prod")
        #expect(v.isOK && v.damaged.isEmpty)
        let info = try PgBackRestInfo.parse(Data(Self.info.utf8), stanza: "prod")
        #expect(v.problem(for: info.backups[0], archiveID: "15-1") == nil)
        #expect(v.summary == "ok: 1 backup (1268 files), 8 WAL files checked")

        let none = PgBackRestVerifyResult.parse(stdout: "stanza: prod\nstatus: error\n  No usable backup.info file\n  No usable archive.info file\n",
                                                stderr: "", stanza: "prod")
        #expect(none.notes == ["No usable backup.info file", "No usable archive.info file"])
        #expect(none.problem(for: info.backups[0], archiveID: "15-1")?.contains("No usable backup.info file") == true)
        // No output at all is not a pass.
        #expect(PgBackRestVerifyResult.parse(stdout: "", stderr: "", stanza: "prod").problem(for: info.backups[0], archiveID: "15-1") != nil)
    }

    // MARK: repo-ls

    @Test func archiveListing() throws {
        let json = #"""
            {".":{"type":"path"},"15-1":{"type":"path"},"15-1/0000000100000000":{"type":"path"},
             "15-1/0000000100000000/000000010000000000000003-5daa8e3287ef12ba5d3ef548a2f575202aaf6594.gz":{"type":"file","size":16485,"time":1796159018},
             "15-1/0000000100000000/000000010000000000000003.00000028.backup":{"type":"file","size":371,"time":1796159018},
             "15-1/0000000100000000/000000010000000000000004-de52b83bd3a2fc40005a02907d841d66aade47cf":{"type":"file","size":16777216,"time":1796159021},
             "15-1/00000002.history":{"type":"file","size":42,"time":1796159030},
             "15-1/0000000200000000/000000020000000000000005-c4427f6dce235b1d750c58a8c1492e9ef002f235.zst":{"type":"file","size":900,"time":1796159031},
             "archive.info":{"type":"file","size":250,"time":1796158980}}
            """#
        let entries = try PgBackRestArchiveListing.parse(Data(json.utf8))
        #expect(Set(entries.map(\.walName)) == ["00000002.history", "000000010000000000000003", "000000010000000000000003.00000028.backup",
                                                "000000010000000000000004", "000000020000000000000005"], "files only, archive.info left out")
        #expect(entries.first { $0.walName == "000000020000000000000005" }?.path == "15-1/0000000200000000/000000020000000000000005-c4427f6dce235b1d750c58a8c1492e9ef002f235.zst")
        #expect(entries.first { $0.walName == "000000010000000000000004" }?.modifiedAt == Date(timeIntervalSince1970: 1_796_159_021))
        let archive = WALArchive(objects: PgBackRestArchiveListing.objects(entries, uriPrefix: "archive/prod/15-1/"))
        let plan = archive.plan(from: try #require(WALSegment(name: "000000010000000000000003")))
        #expect(plan.firstMissing == nil)
        #expect(plan.segments.map(\.walName) == ["000000010000000000000003", "000000010000000000000004", "000000020000000000000005"])
        #expect(plan.histories.map(\.walName) == ["00000002.history"])
        #expect(plan.segments.allSatisfy { !$0.compressed }, "archive-get decompresses: nothing for drill to gunzip")
        #expect(PgBackRestArchiveListing.walName(ofStored: "000000010000000000000004-short.gz") == nil)
    }
}
