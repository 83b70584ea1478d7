import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Testing

/// How drill runs pgbackrest: arguments and environment are data, checked here (no process is started).
@Suite("pgBackRest invocations")
struct PgBackRestInvocationTests {
    let plain = PgBackRestSettings(stanza: "prod", options: ["repo1-path": "/var/lib/pgbackrest"])

    @Test func everyCommandStartsTheSameWay() {
        #expect(PgBackRestInvocation.info(plain, set: nil, lockPath: "/s/l") ==
            ["--no-config", "--stanza=prod", "--repo=1", "--log-level-file=off", "--log-level-console=off", "--log-level-stderr=warn",
             "--lock-path=/s/l", "--output=json", "info"])
        var withConfig = plain
        withConfig.config = "/etc/pgbackrest/pgbackrest.conf"
        withConfig.repo = 2
        #expect(PgBackRestInvocation.info(withConfig, set: "20261201-210309F", lockPath: "/s/l") ==
            ["--config=/etc/pgbackrest/pgbackrest.conf", "--stanza=prod", "--repo=2", "--log-level-file=off", "--log-level-console=off",
             "--log-level-stderr=warn", "--lock-path=/s/l", "--set=20261201-210309F", "--output=json", "info"])
        // verify and repo-ls refuse --lock-path (pgBackRest 2.45, error 031); verify logs damaged files at info.
        #expect(PgBackRestInvocation.verify(plain, lockPath: "/s/l") ==
            ["--no-config", "--stanza=prod", "--repo=1", "--log-level-file=off", "--log-level-console=off", "--log-level-stderr=info",
             "--output=text", "--verbose", "verify"])
        #expect(PgBackRestInvocation.archiveListing(plain, archiveID: "15-1", folder: nil, lockPath: "/s/l").suffix(4) ==
            ["--recurse", "--output=json", "repo-ls", "archive/prod/15-1"])
        #expect(PgBackRestInvocation.archiveListing(plain, archiveID: "15-1", folder: "0000000100000000", lockPath: "/s/l").suffix(3) ==
            ["--output=json", "repo-ls", "archive/prod/15-1/0000000100000000"])
    }

    @Test func restoreNeverArchivesAndNeverWritesOutsideTheScratchFolder() {
        let latest = PgBackRestInvocation.restore(plain, set: "20261201-210309F", dataDirectory: "/s/data", tablespaces: "/s/ts",
                                                  target: nil, lockPath: "/s/lock")
        #expect(latest.contains("--archive-mode=off"))
        #expect(latest.contains("--pg1-path=/s/data") && latest.contains("--set=20261201-210309F") && latest.contains("--lock-path=/s/lock"))
        #expect(latest.contains("--tablespace-map-all=/s/ts"))
        for reset in ["--reset-link-all", "--reset-link-map", "--reset-tablespace-map", "--reset-db-include", "--reset-db-exclude",
                      "--reset-delta", "--reset-recovery-option"] {
            #expect(latest.contains(reset), "\(reset)")
        }
        #expect(latest.contains("--type=default") && !latest.contains { $0.hasPrefix("--target") })
        #expect(latest.last == "restore")
        let t = Date(timeIntervalSince1970: 1_796_159_023.25)
        let timed = PgBackRestInvocation.restore(plain, set: "x", dataDirectory: "/s/data", tablespaces: "/s/ts", target: t, lockPath: "/s/lock")
        #expect(timed.contains("--type=time") && timed.contains("--target=2026-12-01 21:03:43.250+00") && timed.contains("--target-action=promote"))

        let get = PgBackRestInvocation.archiveGet(plain, walName: "000000010000000000000005", destination: "/s/wal/x", dataDirectory: "/s/data",
                                                  lockPath: "/s/lock")
        #expect(get.suffix(3) == ["archive-get", "000000010000000000000005", "/s/wal/x"])
        #expect(get.contains("--no-archive-async") && get.contains("--reset-spool-path") && get.contains("--pg1-path=/s/data"))
    }

    @Test func optionsAndCredentialsTravelInTheEnvironmentOfPgBackRestOnly() {
        let s = PgBackRestSettings(stanza: "prod", options: ["repo1-type": "s3", "repo1-s3-bucket": "b", "process-max": "4"])
        let inherited = ["PGBACKREST_REPO1_S3_KEY": "AKIA", "PGBACKREST_REPO1_S3_KEY_SECRET": "hunter2", "PGBACKREST_ARCHIVE_ASYNC": "y",
                         "PGBACKREST_SPOOL_PATH": "/var/spool/pgbackrest", "PGBACKREST_CONFIG": "/etc/other.conf", "PGBACKREST_REPO": "2",
                         "PGBACKREST_LOCK_PATH": "/tmp/pgbackrest", "PGBACKREST_TYPE": "standby", "PGBACKREST_REPO_": "x", "HOME": "/root"]
        let env = PgBackRestInvocation.environment(s, inherited: inherited)
        #expect(env.unset == ["PGBACKREST_*"])
        #expect(env.set == ["PGBACKREST_REPO1_S3_KEY": "AKIA", "PGBACKREST_REPO1_S3_KEY_SECRET": "hunter2",
                            "PGBACKREST_REPO1_TYPE": "s3", "PGBACKREST_REPO1_S3_BUCKET": "b", "PGBACKREST_PROCESS_MAX": "4"])
        let args = PgBackRestInvocation.info(s, set: nil, lockPath: "/l") + PgBackRestInvocation.verify(s, lockPath: "/l")
            + PgBackRestInvocation.restore(s, set: "x", dataDirectory: "/d", tablespaces: "/t", target: nil, lockPath: "/l")
        #expect(!args.joined(separator: " ").contains("hunter2") && !args.joined(separator: " ").contains("s3"))
    }

    @Test func pgBackRestsRecoveryCommandIsCommentedOut() {
        let auto = """
            # Do not edit this file manually!
            shared_buffers = '1GB'

            # Recovery settings generated by pgBackRest restore on 2026-12-01 21:07:11
            archive_mode = 'off'
            restore_command = 'pgbackrest --no-config --pg1-path=/s/data --stanza=prod archive-get %f "%p"'
            recovery_target_time = '2026-12-01 21:03:43+00'
            """
        let out = PgBackRestInvocation.withoutToolRecoveryCommand(auto)
        let active = out.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(!active.contains { $0.contains("restore_command") })
        #expect(active.contains("shared_buffers = '1GB'") && active.contains("recovery_target_time = '2026-12-01 21:03:43+00'"))
    }

    @Test func errorsAreReadFromStandardError() {
        let stderr = "WARN: something\nERROR: [075]: unable to find backup set with stop time less than '2026-12-01 21:03:20+00'\n       HINT: x\n"
        #expect(PgBackRestInvocation.errorCode(in: stderr) == 75)
        #expect(PgBackRestInvocation.errorText(stderr) == "ERROR: [075]: unable to find backup set with stop time less than '2026-12-01 21:03:20+00' HINT: x")
        #expect(PgBackRestInvocation.errorCode(in: "no error") == nil)
    }

    @Test func theRestoredServersOwnSettingsGoOnItsCommandLine() async throws {
        let folder = TempFolder("pgbr-cmdline")
        let binaries = try #require(await PostgresBinaries.discover())
        let cluster = try EmbeddedCluster.create(name: "cmdline", scratchRoot: folder.path, binaries: binaries, settings: [],
                                                 logger: .init(label: "test"))
        let s = PgBackRestScratch.commandLine(cluster, configured: [("restore_command", "cp …"), ("hba_file", "/s/pg_hba.conf"),
                                                                   ("ident_file", "/s/pg_ident.conf")])
        #expect(await cluster.teardown().removed)
        folder.remove()
        let d = Dictionary(s, uniquingKeysWith: { (a: String, _: String) in a })
        #expect(d["data_directory"] == cluster.dataDirectory, "never a data_directory from production's postgresql.conf")
        #expect(d["port"] == "\(cluster.port)" && d["unix_socket_directories"] == cluster.socketDirectory && d["listen_addresses"] == "")
        #expect(d["archive_mode"] == "off" && d["archive_command"] == "")
        #expect(d["hba_file"] == "/s/pg_hba.conf" && d["ident_file"] == "/s/pg_ident.conf" && d["restore_command"] == nil)
    }
}
