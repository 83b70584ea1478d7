import DrillCore
import DrillLive
import DrillTesting
import Foundation
import Logging
import Testing

@Suite("Scratch clusters from a cached initdb template", .timeLimit(.minutes(5)))
struct InitdbTemplateTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func binaries() async throws -> PostgresBinaries { try #require(await PostgresBinaries.discover()) }

    func start(_ name: String, in folder: TempFolder, template: InitdbTemplate?) async throws -> EmbeddedCluster {
        try await EmbeddedCluster.start(name: name, scratchRoot: folder.sub("scratch"), binaries: try await binaries(),
                                        settings: [("fsync", "off")], template: template, logger: logger)
    }

    func superuserVerifier(_ cluster: EmbeddedCluster) throws -> String {
        let c = try PGConnection(cluster.connection())
        defer { c.close() }
        return try #require(try c.execSync("SELECT rolpassword FROM pg_authid WHERE rolname = current_user").first?.first ?? nil)
    }

    func templateFolders(_ cache: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? []).filter { $0.hasPrefix("initdb-") }
    }

    @Test("the first cluster saves a template; the next is copied from it, works, and gets its own password")
    func savesThenCopies() async throws {
        let folder = TempFolder("template")
        let template = InitdbTemplate(cacheDirectory: folder.file("cache"), logger: logger)
        let first = try await start("first", in: folder, template: template)
        #expect(first.templateUsed == nil, "no template yet: initdb")
        let saved = templateFolders(template.cacheDirectory)
        #expect(saved.count == 1)
        let second = try await start("second", in: folder, template: template)
        #expect(second.templateUsed == (template.cacheDirectory as NSString).appendingPathComponent(saved.first ?? "?"))
        let c = try PGConnection(second.connection())
        _ = try c.execSync("CREATE DATABASE copied")
        _ = try c.execSync("CREATE TABLE t AS SELECT 1 AS x")
        #expect(try c.execSync("SELECT count(*) FROM t").first?.first == "1")
        c.close()
        // Both verifiers are SCRAM and differ: the copy did not keep the template's password.
        let (v1, v2) = (try superuserVerifier(first), try superuserVerifier(second))
        #expect(v1.hasPrefix("SCRAM-SHA-256$") && v2.hasPrefix("SCRAM-SHA-256$"))
        #expect(v1 != v2)
        #expect(await first.teardown().removed)
        #expect(await second.teardown().removed)
        #expect(folder.entries("scratch").isEmpty)
        // The template itself was never started: no server pid file, no log.
        let data = (template.cacheDirectory as NSString).appendingPathComponent(saved.first ?? "?") + "/data"
        #expect(FileManager.default.fileExists(atPath: data + "/PG_VERSION"))
        #expect(!FileManager.default.fileExists(atPath: data + "/postmaster.pid"))
    }

    @Test("an incomplete template is discarded: initdb runs and a whole template replaces it")
    func incompleteTemplate() async throws {
        let folder = TempFolder("template")
        let template = InitdbTemplate(cacheDirectory: folder.file("cache"), logger: logger)
        _ = await (try await start("first", in: folder, template: template)).teardown()
        let saved = try #require(templateFolders(template.cacheDirectory).first)
        let control = (template.cacheDirectory as NSString).appendingPathComponent(saved) + "/data/global/pg_control"
        try FileManager.default.removeItem(atPath: control)
        let cluster = try await start("second", in: folder, template: template)
        #expect(cluster.templateUsed == nil)
        #expect(PGConnection.ping(cluster.connection()))
        _ = await cluster.teardown()
        #expect(FileManager.default.fileExists(atPath: control), "a fresh template was saved")
    }

    @Test("a template whose copy does not start is discarded, and the cluster is made with initdb")
    func templateThatDoesNotStart() async throws {
        let folder = TempFolder("template")
        let template = InitdbTemplate(cacheDirectory: folder.file("cache"), logger: logger)
        _ = await (try await start("first", in: folder, template: template)).teardown()
        let saved = try #require(templateFolders(template.cacheDirectory).first)
        let control = (template.cacheDirectory as NSString).appendingPathComponent(saved) + "/data/global/pg_control"
        let original = try #require(FileManager.default.contents(atPath: control))
        try Data(repeating: 0x5a, count: original.count).write(to: URL(fileURLWithPath: control))
        let cluster = try await start("second", in: folder, template: template)
        #expect(cluster.templateUsed == nil, "the copy failed to start; initdb made the cluster")
        #expect(PGConnection.ping(cluster.connection()))
        _ = await cluster.teardown()
        #expect(folder.entries("scratch").isEmpty)
        let replaced = try #require(FileManager.default.contents(atPath: control))
        #expect(replaced != Data(repeating: 0x5a, count: original.count), "the damaged template was replaced")
    }

    @Test("saving a template removes the ones whose postgres binary is gone or changed, and hour-old leftovers, and keeps the others")
    func prunesStaleTemplates() async throws {
        let folder = TempFolder("template")
        let cache = folder.file("cache")
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let postgres = try await binaries().path("postgres")
        var st = stat()
        #expect(stat(postgres, &st) == 0)
        let current = "\(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(st.st_ino)"
        let sources = ["initdb-gone": "/nonexistent/bin/postgres\n1 2.3 4\n", "initdb-upgraded": "\(postgres)\n1 2.3 4\n",
                       "initdb-other": "\(postgres)\n\(current)\n", "initdb-unlabelled": nil]
        for (name, source) in sources {
            let dir = (cache as NSString).appendingPathComponent(name)
            try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
            if let source { try Data(source.utf8).write(to: URL(fileURLWithPath: dir + "/source")) }
        }
        // What killed drills left: an hour-old staging folder and discarded template go, a fresh staging folder stays.
        for name in [".tmp-old", "initdb-x.discard-1-2", ".tmp-new"] {
            let dir = (cache as NSString).appendingPathComponent(name)
            try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
            if name != ".tmp-new" {
                try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: dir)
            }
        }
        let template = InitdbTemplate(cacheDirectory: cache, logger: logger)
        _ = await (try await start("first", in: folder, template: template)).teardown()
        let entries = Set((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? [])
        #expect(!entries.contains(".tmp-old") && !entries.contains("initdb-x.discard-1-2") && entries.contains(".tmp-new"))
        let left = Set(templateFolders(cache))
        #expect(!left.contains("initdb-gone") && !left.contains("initdb-upgraded"))
        #expect(left.contains("initdb-other") && left.contains("initdb-unlabelled"), "only stale templates go")
        #expect(left.count == 3, "and the new one was saved: \(left)")
    }

    @Test("a cache folder that is a symlink is not used")
    func symlinkedCache() async throws {
        let folder = TempFolder("template")
        let real = folder.sub("real")
        try FileManager.default.createSymbolicLink(atPath: folder.file("cache"), withDestinationPath: real)
        let template = InitdbTemplate(cacheDirectory: folder.file("cache"), logger: logger)
        _ = await (try await start("first", in: folder, template: template)).teardown()
        #expect(folder.entries("real").isEmpty)
    }

    @Test("where the cache is: DRILL_CACHE_DIR, XDG_CACHE_HOME, ~/.cache; off turns it off")
    func location() {
        #expect(InitdbTemplate.fromEnvironment(["DRILL_CACHE_DIR": "/c", "HOME": "/h"], logger: logger)?.cacheDirectory == "/c")
        #expect(InitdbTemplate.fromEnvironment(["DRILL_CACHE_DIR": "off", "HOME": "/h"], logger: logger) == nil)
        #expect(InitdbTemplate.fromEnvironment(["DRILL_CACHE_DIR": "", "HOME": "/h"], logger: logger) == nil)
        #expect(InitdbTemplate.fromEnvironment(["XDG_CACHE_HOME": "/x", "HOME": "/h"], logger: logger)?.cacheDirectory == "/x/drill")
        #expect(InitdbTemplate.fromEnvironment(["HOME": "/h"], logger: logger)?.cacheDirectory == "/h/.cache/drill")
        #expect(InitdbTemplate.fromEnvironment([:], logger: logger) == nil)
    }
}
