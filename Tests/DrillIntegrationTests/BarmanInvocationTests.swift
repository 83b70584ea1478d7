import DrillCore
import DrillLive
import Foundation
import Testing

/// The Barman and barman-cloud command lines and how their failures read (pure: no process runs).
@Suite("Barman and barman-cloud invocations")
struct BarmanInvocationTests {
    let server = BarmanSettings(server: "pg", config: "/etc/barman/prod.conf")
    let cloud = BarmanCloudSettings(location: "s3://acme/barman/", server: "prod", endpoint: "http://127.0.0.1:9000", region: "eu-west-3")

    @Test func barmanArguments() {
        #expect(BarmanInvocation.listBackups(server) == ["-c", "/etc/barman/prod.conf", "-f", "json", "list-backups", "pg"])
        #expect(BarmanInvocation.showBackup(server, id: "20261201T210822")
            == ["-c", "/etc/barman/prod.conf", "-f", "json", "show-backup", "pg", "20261201T210822"])
        #expect(BarmanInvocation.checkBackup(server, id: "X") == ["-c", "/etc/barman/prod.conf", "-f", "json", "check-backup", "pg", "X"])
        #expect(BarmanInvocation.verifyBackup(server, id: "X") == ["-c", "/etc/barman/prod.conf", "-f", "json", "verify-backup", "pg", "X"])
        #expect(BarmanInvocation.walFiles(server, id: "X")
            == ["-c", "/etc/barman/prod.conf", "-f", "json", "list-files", "--target", "wal", "pg", "X"])
        #expect(BarmanInvocation.recover(BarmanSettings(server: "pg"), id: "X", destination: "/scratch/drill-barman-1/data")
            == ["recover", "--get-wal", "pg", "X", "/scratch/drill-barman-1/data"],
                "no target options: drill writes the recovery settings; no WAL copied: drill delivers it")
    }

    @Test func barmanEnvironment() {
        let env = BarmanInvocation.environment(path: "/usr/bin:/bin", postgresBin: "/usr/lib/postgresql/15/bin")
        #expect(env.set["PATH"] == "/usr/bin:/bin:/usr/lib/postgresql/15/bin")
        #expect(env.unset == ["PG*", "AWS_*"])
        #expect(BarmanInvocation.environment(path: "/usr/lib/postgresql/15/bin:/usr/bin", postgresBin: "/usr/lib/postgresql/15/bin").set["PATH"]
            == "/usr/lib/postgresql/15/bin:/usr/bin")
    }

    @Test func barmanConfigurationSearch() {
        let s = BarmanSettings(server: "pg")
        #expect(BarmanInvocation.configurationFile(s, home: "/root") { $0 == "/etc/barman.conf" } == "/etc/barman.conf")
        #expect(BarmanInvocation.configurationFile(s, home: "/root") { $0 == "/root/.barman.conf" || $0 == "/etc/barman.conf" }
            == "/root/.barman.conf")
        #expect(BarmanInvocation.configurationFile(s, home: "/root") { _ in false } == nil)
        #expect(BarmanInvocation.configurationFile(server, home: "/root") { _ in false } == "/etc/barman/prod.conf")
    }

    @Test func barmanFailures() {
        let unknown = BarmanInvocation.failure("barman list-backups", server, exitCode: 1, stdout: #"{"_ERROR": ["Unknown server 'pg'"]}"#, stderr: "")
        #expect(unknown.code == .backupNotFound)
        #expect(unknown.message.hasPrefix("Barman has no server \"pg\" in /etc/barman/prod.conf"))
        let user = BarmanInvocation.failure("barman list-backups", server, exitCode: 1, stdout: "", stderr: "ERROR: please run barman as 'barman' user\n")
        #expect(user.code == .unsupported)
        #expect(user.message.contains("run drill as that user or as root"))
        let other = BarmanInvocation.failure("barman recover", server, exitCode: 1, stdout: "", stderr: "EXCEPTION: boom\n\n")
        #expect(other.code == .backupUnreadable)
        #expect(other.message == "barman recover failed (exit status 1): EXCEPTION: boom")
    }

    @Test func checkAndVerifyResults() {
        #expect(BarmanInvocation.checkResult(exitCode: 0, stdout: "{}", stderr: "").ok)
        let failed = BarmanInvocation.checkResult(exitCode: 1, stdout: #"{"_ERROR": ["The validity of a failed backup cannot be checked"]}"#, stderr: "")
        #expect(!failed.ok)
        #expect(failed.detail == "The validity of a failed backup cannot be checked")

        let ok = BarmanInvocation.verifyResult(exitCode: 0, stdout: #"{"_INFO": ["Verifying backup 'X' on server ['pg']", "Calling pg_verifybackup", "backup successfully verified"]}"#, stderr: "")
        #expect(ok.check.ok && ok.available)
        #expect(ok.check.detail == "backup successfully verified")
        let missingTool = BarmanInvocation.verifyResult(exitCode: 1, stdout: #"{"_ERROR": ["pg_verifybackup not found"], "_INFO": []}"#, stderr: "")
        #expect(!missingTool.check.ok && !missingTool.available)
        let noManifest = BarmanInvocation.verifyResult(exitCode: 1, stdout: #"{"_ERROR": ["verify backup failure on directory '/b/data'", "pg_verifybackup: error: could not open file \"/b/data/backup_manifest\": No such file or directory\n"]}"#, stderr: "")
        #expect(!noManifest.check.ok && !noManifest.available)
        let damaged = BarmanInvocation.verifyResult(exitCode: 1, stdout: #"{"_ERROR": ["verify backup failure on directory '/b/data'", "pg_verifybackup: error: \"base/1/1247\" has size 122888 on disk but size 122880 in the manifest\n"]}"#, stderr: "")
        #expect(!damaged.check.ok && damaged.available)
        #expect(damaged.check.detail?.contains("has size 122888 on disk") == true)
    }

    @Test func barmanCloudArguments() {
        #expect(cloud.location == "s3://acme/barman")
        #expect(BarmanCloudInvocation.listBackups(cloud)
            == ["--format", "json", "--endpoint-url", "http://127.0.0.1:9000", "s3://acme/barman", "prod"])
        #expect(BarmanCloudInvocation.restore(cloud, id: "20261201T210451", destination: "/s/data")
            == ["--endpoint-url", "http://127.0.0.1:9000", "s3://acme/barman", "prod", "20261201T210451", "/s/data"])
        #expect(BarmanCloudInvocation.walRestore(cloud, walName: "000000010000000000000009", destination: "/s/wal/000000010000000000000009")
            == ["--endpoint-url", "http://127.0.0.1:9000", "s3://acme/barman", "prod", "000000010000000000000009", "/s/wal/000000010000000000000009"])
        let aws = BarmanCloudSettings(location: "s3://acme/barman", server: "prod")
        #expect(BarmanCloudInvocation.listBackups(aws) == ["--format", "json", "s3://acme/barman", "prod"])
        #expect(BarmanCloudInvocation.listBackups(aws, environment: ["AWS_ENDPOINT_URL": "https://s3.internal"])
            == ["--format", "json", "--endpoint-url", "https://s3.internal", "s3://acme/barman", "prod"])
        let env = BarmanCloudInvocation.environment(cloud)
        #expect(env.set["AWS_DEFAULT_REGION"] == "eu-west-3")
        #expect(env.unset == ["PG*"])
        #expect(BarmanCloudInvocation.environment(aws).set["AWS_DEFAULT_REGION"] == nil)
        for args in [BarmanCloudInvocation.listBackups(cloud), BarmanCloudInvocation.restore(cloud, id: "i", destination: "/d")] {
            #expect(!args.contains { $0.lowercased().contains("secret") || $0.contains("AKIA") })
        }
    }

    @Test func barmanCloudFailures() {
        let denied = BarmanCloudInvocation.failure("barman-cloud-backup-list", cloud, exitCode: 4, stderr: """
            2026-12-01 21:07:38,725 [3058] ERROR: Barman cloud backup list exception: An error occurred (403) when calling the HeadBucket operation: Forbidden
            """, credentials: "credentials from environment (AWS_ACCESS_KEY_ID)")
        #expect(denied.code == .storeDenied)
        #expect(denied.message == "barman-cloud-backup-list was denied access to s3://acme/barman (server prod): Barman cloud backup list exception: An error occurred (403) when calling the HeadBucket operation: Forbidden. Check the AWS credentials (credentials from environment (AWS_ACCESS_KEY_ID)).")
        let bucket = BarmanCloudInvocation.failure("barman-cloud-backup-list", cloud, exitCode: 1,
                                                   stderr: "2026-12-01 21:07:39,677 [3077] ERROR: Bucket nobucket does not exist\n", credentials: nil)
        #expect(bucket.code == .backupNotFound)
        let backup = BarmanCloudInvocation.failure("barman-cloud-restore", cloud, exitCode: 4,
                                                   stderr: "ERROR: Barman cloud restore exception: Unknown backup 'NOPE' for server 'prod'\n", credentials: nil)
        #expect(backup.code == .backupNotFound)
        let none = BarmanCloudInvocation.failure("barman-cloud-backup-list", cloud, exitCode: 4,
                                                 stderr: "ERROR: Barman cloud backup list exception: Unable to locate credentials\n", credentials: nil)
        #expect(none.code == .storeDenied)
        #expect(none.message.contains("found no AWS credentials"))
        let down = BarmanCloudInvocation.failure("barman-cloud-backup-list", cloud, exitCode: 4,
                                                 stderr: "ERROR: Barman cloud backup list exception: Could not connect to the endpoint URL: \"http://127.0.0.1:9000/acme\"\n", credentials: nil)
        #expect(down.code == .storeUnavailable)
    }
}
