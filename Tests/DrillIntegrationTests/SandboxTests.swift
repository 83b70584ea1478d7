import DrillCore
@testable import DrillLive
import DrillTesting
import Foundation
import Logging
import Testing

/// A backup is untrusted input: hostile real dumps are restored, and PostgreSQL itself refuses what they try, because
/// the restore runs as the scratch database's owner, not a superuser (docs/security.md).
@Suite("The sandboxed restore refuses what a hostile backup tries", .timeLimit(.minutes(10)))
struct SandboxTests {
    /// (case, SQL spliced into a real plain dump (MARKER: a file it would create), text the finding must name).
    static let plainAttacks: [(String, String, String)] = [
        ("copy_program", "COPY (SELECT 1) TO PROGRAM 'touch MARKER';", "TO PROGRAM 'touch"),
        ("read_file", "CREATE TABLE public.stolen AS SELECT pg_read_file('/etc/passwd') AS content;", "pg_read_file"),
        ("role_lower", "create role evil_lower superuser;", "create role evil_lower"),
        ("create_user", "CREATE USER evil_user SUPERUSER;", "CREATE USER evil_user"),
        ("role_spaces", "CREATE  ROLE  evil_spaces SUPERUSER;", "ROLE evil_spaces"),
        ("role_in_do", "DO $$ BEGIN EXECUTE 'CREATE ROLE evil_do SUPERUSER'; END $$;", "CREATE ROLE evil_do"),
        ("alter_system", "ALTER SYSTEM SET archive_command = 'touch MARKER';", "ALTER SYSTEM"),
        ("detach", "COPY (SELECT 1) TO PROGRAM 'setsid nohup sh -c \"touch MARKER; sleep 300\" </dev/null >/dev/null 2>&1 &';",
         "setsid nohup"),
        ("role_upper", "CREATE ROLE evil_upper SUPERUSER;", "CREATE ROLE"),
    ]

    @Test("a plain dump's COPY TO PROGRAM, pg_read_file, CREATE ROLE in every spelling, ALTER SYSTEM and a detaching program are refused",
          arguments: plainAttacks.map(\.0))
    func plainAttack(name: String) async throws {
        let (_, attack, named) = try #require(Self.plainAttacks.first { $0.0 == name })
        let folder = TempFolder("hostile")
        let markers = HostileDumps.markerFolder(in: folder)
        let marker = (markers as NSString).appendingPathComponent(name)
        let backups = folder.sub("backups")
        try await HostileDumps.plain(attack: attack.replacingOccurrences(of: "MARKER", with: marker),
                                     to: (backups as NSString).appendingPathComponent("evil.sql"), database: "hostile_\(name)")
        let report = try await runDrill(ConfigFixture.drill(location: backups), name: "evil", in: folder)
        #expect(report.status == .failed, "findings: \(report.findings)")
        let findings = report.findings.joined(separator: "\n")
        #expect(findings.contains("refused"), "\(findings)")
        #expect(findings.contains(named), "the finding names the statement: \(findings)")
        if name != "role_upper" {  // the lexical filter stops that one before PostgreSQL sees it
            #expect(findings.contains(#""restore": { "as": "superuser" }"#), "\(findings)")
        }
        try await Task.sleep(for: .milliseconds(300))  // a detached program that ran would have had the time to write
        #expect(!FileManager.default.fileExists(atPath: marker), "the attack ran")
        #expect(report.scratch.removed)
        #expect(report.scratch.detail?.contains("no process of drill-scratch-") == true, "\(report.scratch.detail ?? "")")
        expectNothingLeft(folder)
    }

    /// (case, PL/pgSQL run when pg_restore refreshes a materialized view, text the finding must name).
    static let viewAttacks: [(String, String, String)] = [
        ("mv_program", "EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch MARKER''';", "TO PROGRAM"),
        ("mv_read_file", "PERFORM pg_read_file('/etc/passwd');", "pg_read_file"),
        ("mv_role", "EXECUTE 'create role evil_mv superuser';", "create role evil_mv"),
    ]

    @Test("a custom dump's materialized view over a volatile function is refreshed by pg_restore, and what it tries is refused",
          arguments: viewAttacks.map(\.0))
    func materializedViewAttack(name: String) async throws {
        let (_, body, named) = try #require(Self.viewAttacks.first { $0.0 == name })
        let folder = TempFolder("hostmv")
        let marker = (HostileDumps.markerFolder(in: folder) as NSString).appendingPathComponent(name)
        let backups = folder.sub("backups")
        try await HostileDumps.customWithMaterializedView("hostile_\(name)", body: body.replacingOccurrences(of: "MARKER", with: marker),
                                                          to: (backups as NSString).appendingPathComponent("evil.dump"))
        let report = try await runDrill(ConfigFixture.drill(location: backups), name: "evil", in: folder)
        #expect(report.status == .failed)
        let findings = report.findings.joined(separator: "\n")
        #expect(findings.contains("REFRESH MATERIALIZED VIEW"), "\(findings)")
        #expect(findings.contains(named), "\(findings)")
        #expect(findings.contains(#""restore": { "as": "superuser" }"#), "\(findings)")
        #expect(!FileManager.default.fileExists(atPath: marker), "the attack ran")
        expectNothingLeft(folder)
    }

    @Test("restore.as superuser lets the same attack run, but only as a dedicated account with no secret, and what it detached is killed at teardown")
    func superuserIsStillContained() async throws {
        let folder = TempFolder("hostsu")
        let markers = HostileDumps.markerFolder(in: folder)
        let m = { (name: String) in (markers as NSString).appendingPathComponent(name) }
        let backups = folder.sub("backups")
        let program = "id -u > \(m("uid")); tr '\\0' '\\n' < /proc/self/environ > \(m("env")); " +
            "setsid sh -c 'echo $$ > \(m("pid")); exec sleep 300' </dev/null >/dev/null 2>&1 &"
        try await HostileDumps.plain(attack: "COPY (SELECT 1) TO PROGRAM $p$\(program)$p$;",
                                     to: (backups as NSString).appendingPathComponent("evil.sql"), database: "hostile_su")
        let drill = ConfigFixture.drill(location: backups).replacingOccurrences(of: #""profile": "fast" }"#,
                                                                              with: #""profile": "fast", "as": "superuser" }"#)
        #expect(drill.contains(#""as": "superuser""#))
        let report = try await runDrill(drill, name: "evil", in: folder)
        #expect(report.status == .compliant, "findings: \(report.findings)")
        #expect(report.restore.settings?["restore.as"]?.hasPrefix("superuser") == true)
        // The marker proves the attack ran (so its absence in the tests above means something) …
        let uidText = try String(contentsOfFile: m("uid"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let uid = try #require(uid_t(uidText))
        let user = try #require(UserDatabase.account(uid: uid)?.name)
        // … as a dedicated account, not root, not postgres (which owns production's archive and sockets).
        #expect(user.hasPrefix("drill-scratch-"), "ran as \(user)")
        #expect(uid != 0 && user != "postgres")
        // Its environment is the allow-list: nothing of drill's own.
        let env = try String(contentsOfFile: m("env"), encoding: .utf8).split(separator: "\n").map { String($0.prefix { $0 != "=" }) }
        let allowed: Set<String> = ["PATH", "HOME", "PWD", "SHLVL", "_", "OLDPWD", "LANG", "LANGUAGE", "TZ"]
        let unexpected = env.filter { !allowed.contains($0) && !$0.hasPrefix("LC_") && !$0.hasPrefix("PG") }
        #expect(unexpected.isEmpty, "the server's children inherited \(unexpected)")
        #expect(!env.contains { ProcessSpec.isSecret($0) })
        // The detached program did not survive teardown.
        let pidText = try String(contentsOfFile: m("pid"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try #require(Int32(pidText))
        let survivor = ProcessTable.entry(pid).map { !$0.isZombie && $0.uids.contains(UInt32(uid)) } ?? false
        #expect(!survivor, "the detached program (pid \(pid)) outlived teardown")
        #expect(report.scratch.detail?.contains("outlived the server") == true, "\(report.scratch.detail ?? "")")
        #expect(report.scratch.detail?.contains("no process of \(user) left") == true, "\(report.scratch.detail ?? "")")
        expectNothingLeft(folder)
    }

    @Test("a server target whose user is a superuser is refused, and no database is created there")
    func superuserServerTarget() async throws {
        let folder = TempFolder("susrv")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let source = try await SourceDatabase.shared.start()
        let url = "host=\(source.socketDirectory) port=\(source.port) user=postgres dbname=postgres"
        let report = try await runDrill(ConfigFixture.drill(location: backups, target: #"{ "kind": "server", "url": "\#(url)" }"#),
                                        name: "susrv", in: folder)
        #expect(report.status == .failed)
        let findings = report.findings.joined(separator: "\n")
        #expect(findings.contains("is a superuser"), "\(findings)")
        #expect(findings.contains(#""restore": { "as": "superuser" }"#), "\(findings)")
        #expect(!(try await SourceDatabase.shared.databases()).contains { $0.hasPrefix("drill_susrv_") })
    }

    @Test("the checks run as the owner role too, so a view in the backup cannot borrow a superuser's rights")
    func checksRunAsTheOwner() async throws {
        let folder = TempFolder("owner")
        let backups = folder.sub("backups")
        _ = try copy(try await Shop.shared.dump(.custom), into: backups, as: "shop.dump")
        let checks = """
            [ { "name": "who", "sql": "SELECT current_user || ' ' || (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)", "expect": { "equals": "drill_restore false" } },
              { "name": "owner", "sql": "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()", "expect": { "equals": "drill_restore" } } ]
            """
        let report = try await runDrill(ConfigFixture.drill(location: backups, checks: checks), in: folder)
        #expect(report.status == .compliant, "\(report.findings) \(report.checks.map { "\($0.name): \($0.observed ?? $0.error ?? "")" })")
        #expect(report.restore.settings?["restore.as"] == "owner (role drill_restore, not a superuser)")
        expectNothingLeft(folder)
    }
}

@Suite("Refusals read from the tools' error output")
struct PrivilegeRefusalTests {
    @Test("pg_restore's refused REFRESH names the inner statement; psql's names the statement it echoed")
    func parse() throws {
        let restore = """
            pg_restore: error: could not execute query: ERROR:  must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program
            HINT:  Anyone can COPY to stdout or from stdin. psql's \\copy command also works for anyone.
            CONTEXT:  SQL statement "COPY (SELECT 1) TO PROGRAM 'touch /tmp/x'"
            PL/pgSQL function public.refreshed() line 4 at EXECUTE
            Command was: REFRESH MATERIALIZED VIEW public.summary;
            """
        let r = try #require(PrivilegeRefusal.find(in: restore))
        #expect(r.statement == "REFRESH MATERIALIZED VIEW public.summary;")
        #expect(r.context == "COPY (SELECT 1) TO PROGRAM 'touch /tmp/x'")
        #expect(r.error.hasPrefix("must be superuser"))
        let psql = """
            psql:<stdin>:40: ERROR:  permission denied to create role
            psql:<stdin>:40: STATEMENT:  create role
                evil;
            """
        let p = try #require(PrivilegeRefusal.find(in: psql))
        #expect(p.statement == "create role evil;")
        #expect(p.finding(role: "drill_restore").contains(#""restore": { "as": "superuser" }"#))
        // An operating-system "Permission denied" on a file is not a privilege refusal.
        #expect(PrivilegeRefusal.find(in: #"pg_restore: error: could not open input file "/b/x.dump": Permission denied"#) == nil)
        #expect(PrivilegeRefusal.find(in: "psql:<stdin>:3: ERROR:  relation \"x\" does not exist") == nil)
    }

    @Test("restore.as is owner by default, superuser when asked, and anything else is a configuration error")
    func restoreAsKey() throws {
        let folder = TempFolder("restas")
        let drill = { (value: String?) in
            ConfigFixture.drill(location: "/srv/b").replacingOccurrences(
                of: #""profile": "fast" }"#, with: #""profile": "fast""# + (value.map { #", "as": "\#($0)" }"# } ?? " }"))
        }
        let config = try ConfigFixture(in: folder, drills: ["a": drill(nil), "b": drill("superuser")]).load()
        #expect(config.drills.first { $0.name == "a" }?.restore.restoreAs == .owner)
        #expect(config.drills.first { $0.name == "b" }?.restore.restoreAs == .superuser)
        let bad = TempFolder("restas")
        let error = #expect(throws: ConfigErrors.self) { try ConfigFixture(in: bad, drills: ["c": drill("root")]).load() }
        #expect(error?.issues.contains { "\($0)".contains("restore.as") && "\($0)".contains("owner, superuser") } == true,
                "\(error?.issues ?? [])")
    }

    @Test("the server's environment is the allow-list plus what a method sets in serverEnvironment, never drill's")
    func serverEnvironment() async throws {
        let folder = TempFolder("srvenv")
        let binaries = try #require(await PostgresBinaries.discover())
        let cluster = try EmbeddedCluster.create(name: "env", scratchRoot: folder.sub("scratch"), binaries: binaries, settings: [],
                                                 logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        cluster.serverEnvironment = ["PGBACKREST_REPO1_S3_KEY_SECRET": "for-archive-get"]
        let env = cluster.serverSpec("/bin/true", []).resolvedEnvironment(from: [
            "AWS_SECRET_ACCESS_KEY": "drill's", "PGPASSWORD": "drill's", "LANG": "C.UTF-8", "HOME": "/root", "PATH": "/opt/x",
            "DRILL_ARCHIVE": "/srv/archive",
        ])
        #expect(env == ["PGBACKREST_REPO1_S3_KEY_SECRET": "for-archive-get", "LANG": "C.UTF-8", "HOME": cluster.root,
                        "PATH": ProcessSpec.safePath])
        if let runAs = cluster.runAs {
            #expect(runAs.user.hasPrefix(ScratchAccounts.namePrefix) && runAs.dedicated)
        }
        #expect(await cluster.teardown().removed)
    }

    @Test("a child never inherits drill's credentials unless they are named; an allow-list keeps only what it names")
    func environment() {
        let drillEnv = ["AWS_SECRET_ACCESS_KEY": "s", "AWS_ACCESS_KEY_ID": "k", "PGPASSWORD": "p", "GITHUB_TOKEN": "t",
                        "HOME": "/root", "LANG": "C.UTF-8", "LC_ALL": "C", "PATH": "/x"]
        let all = ProcessSpec(executable: "/bin/true", arguments: []).resolvedEnvironment(from: drillEnv)
        #expect(all.keys.sorted() == ["HOME", "LANG", "LC_ALL", "PATH"])
        let named = ProcessSpec(executable: "/bin/true", arguments: [], environment: ["AWS_SECRET_ACCESS_KEY": "given"])
            .resolvedEnvironment(from: drillEnv)
        #expect(named["AWS_SECRET_ACCESS_KEY"] == "given")
        let only = ProcessSpec(executable: "/bin/true", arguments: [], environment: ["PATH": ProcessSpec.safePath],
                               inherit: .only(ProcessSpec.localeAndZone)).resolvedEnvironment(from: drillEnv)
        #expect(only == ["LANG": "C.UTF-8", "LC_ALL": "C", "PATH": ProcessSpec.safePath])
    }
}
