import DrillCore
import Foundation
import Logging

/// A cache of freshly initialised, never started data folders, one per PostgreSQL installation and `initdb` options.
/// Copying one takes a fraction of `initdb`'s time (it spends most of its second bootstrapping the catalogs), which is
/// most of a scratch cluster's fixed cost. PostgreSQL's own test suite caches `initdb` output the same way (PG 16's
/// `initdb_template`). A template holds no backup data: only an empty cluster. Each copy gets its own random password
/// once started (`EmbeddedCluster.start`).
///
/// Location: `$DRILL_CACHE_DIR`, else `$XDG_CACHE_HOME/drill`, else `~/.cache/drill`; `DRILL_CACHE_DIR=off` turns the
/// cache off. Anything wrong with the cache (unwritable, foreign owner, damaged template) falls back to `initdb`.
public struct InitdbTemplate: Sendable {
    /// The cache folder holding `initdb-<key>/data` templates.
    public var cacheDirectory: String
    var logger: Logger

    public init(cacheDirectory: String, logger: Logger) {
        self.cacheDirectory = cacheDirectory
        self.logger = logger
    }

    /// The cache the environment asks for, or nil when it is turned off or no home folder is known.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment,
                                       logger: Logger) -> InitdbTemplate? {
        if let dir = env["DRILL_CACHE_DIR"] {
            return dir.isEmpty || dir == "off" ? nil : InitdbTemplate(cacheDirectory: dir, logger: logger)
        }
        if let xdg = env["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            return InitdbTemplate(cacheDirectory: (xdg as NSString).appendingPathComponent("drill"), logger: logger)
        }
        guard let home = env["HOME"], home.hasPrefix("/") else { return nil }
        return InitdbTemplate(cacheDirectory: (home as NSString).appendingPathComponent(".cache/drill"), logger: logger)
    }

    /// The template's folder for these binaries, `initdb` options and server account (one for all the pool's accounts). The key covers the `postgres`
    /// binary's identity (path, size, modification time, inode), so a package upgrade makes a new template.
    public func folder(binaries: PostgresBinaries, initdbArguments: [String], runAs: RunAs?) -> String? {
        guard let binary = Self.binaryIdentity(binaries.path("postgres")) else { return nil }
        // The pool's accounts share one template: a copy is handed to the leased account (`EmbeddedCluster`).
        let owner = runAs.map { $0.dedicated ? "drill-scratch pool" : "\($0.uid):\($0.gid)" } ?? "\(geteuid()):\(getegid())"
        let identity = [binaries.directory, binary, owner] + initdbArguments
        let key = SHA256Hasher.hex(of: Data(identity.joined(separator: "\u{0}").utf8)).prefix(20)
        return (cacheDirectory as NSString).appendingPathComponent("initdb-\(key)")
    }

    /// Copies the template's data folder to `destination` (which must not exist). False when there is no usable
    /// template or the copy failed; a partial copy is removed.
    public func copy(from folder: String, to destination: String) async -> Bool {
        guard Self.isOwnedFolder(folder), Self.isOwnedFolder(cacheDirectory) else { return false }
        let data = (folder as NSString).appendingPathComponent("data")
        for marker in ["PG_VERSION", "global/pg_control", "postgresql.conf"] {
            guard FileManager.default.fileExists(atPath: (data as NSString).appendingPathComponent(marker)) else {
                logger.warning("initdb template \(folder) is incomplete; discarding it")
                discard(folder)
                return false
            }
        }
        if await Self.copyTree(data, to: destination) { return true }
        logger.warning("copying the initdb template \(folder) failed; running initdb")
        try? FileManager.default.removeItem(atPath: destination)
        return false
    }

    /// Saves a copy of a freshly initialised data folder as the template (best effort: another drill may have saved
    /// one first, and an unwritable cache only costs the next drill an `initdb`).
    public func store(dataDirectory: String, as folder: String, postgres: String) async {
        do {
            try FileManager.default.createDirectory(atPath: cacheDirectory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            // A cache folder of ours made by someone else's umask is closed; one owned by another user is not used.
            var st = stat()
            if lstat(cacheDirectory, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == geteuid() { chmod(cacheDirectory, 0o700) }
            guard Self.isOwnedFolder(cacheDirectory) else {
                logger.warning("\(cacheDirectory) is not a private folder of this user; not caching the initdb template")
                return
            }
            let staging = try EmbeddedCluster.makePrivateDirectory(under: cacheDirectory, prefix: ".tmp-")
            defer { try? FileManager.default.removeItem(atPath: staging) }
            guard await Self.copyTree(dataDirectory, to: (staging as NSString).appendingPathComponent("data")) else { return }
            // Which binary the template belongs to, so that a later drill can tell when it is stale.
            try Data("\(postgres)\n\(Self.binaryIdentity(postgres) ?? "")\n".utf8)
                .write(to: URL(fileURLWithPath: (staging as NSString).appendingPathComponent("source")))
            // Atomic publication: readers see a whole template or none. Losing the race to another drill is fine.
            if rename(staging, folder) != 0 && errno != EEXIST && errno != ENOTEMPTY {
                logger.warning("cannot save the initdb template in \(cacheDirectory): \(String(cString: strerror(errno)))")
            }
            pruneStale()
        } catch {
            logger.warning("cannot save the initdb template in \(cacheDirectory): \(error)")
        }
    }

    /// Removes the templates whose `postgres` binary is gone or has changed (a package upgrade): a new template is
    /// only ever saved when the binary is new, so that is when old ones go. Templates of other installations stay.
    /// Also removes what a drill killed while saving or discarding left behind (`.tmp-*`, `*.discard-*`) once it is an
    /// hour old: a save takes well under a second, so nothing that old is still in use.
    func pruneStale(now: Date = Date()) {
        let fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: cacheDirectory)) ?? []
        for name in names where name.hasPrefix(".tmp-") || name.contains(".discard-") {
            let path = (cacheDirectory as NSString).appendingPathComponent(name)
            if let modified = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
               now.timeIntervalSince(modified) > 3600 {
                try? fm.removeItem(atPath: path)
            }
        }
        for name in names where name.hasPrefix("initdb-") && !name.contains(".discard-") {
            let folder = (cacheDirectory as NSString).appendingPathComponent(name)
            guard let text = try? String(contentsOfFile: (folder as NSString).appendingPathComponent("source"), encoding: .utf8) else { continue }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            guard lines.count >= 2, lines[0].hasPrefix("/") else { continue }
            if Self.binaryIdentity(lines[0]) != lines[1] {
                logger.info("removing a stale initdb template", metadata: ["template": "\(folder)", "postgres": "\(lines[0])"])
                discard(folder)
            }
        }
    }

    /// Size, modification time and inode of a program: changes when a package upgrade replaces it.
    static func binaryIdentity(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return "\(st.st_size) \(st.st_mtim.tv_sec).\(st.st_mtim.tv_nsec) \(st.st_ino)"
    }

    /// Removes a template (damaged, or a copy of it did not start). Renamed away first so no reader sees half of it.
    public func discard(_ folder: String) {
        let trash = folder + ".discard-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        if rename(folder, trash) == 0 { try? FileManager.default.removeItem(atPath: trash) }
    }

    /// `cp -a`: keeps owners and modes (the server's account owns the data when drill is root). About 0.06 s for the
    /// 39 MB of a fresh cluster here, against 0.6 s for `initdb`. (`--sparse=always` was tried: slower, not faster.)
    static func copyTree(_ source: String, to destination: String) async -> Bool {
        let cp = FileManager.default.isExecutableFile(atPath: "/bin/cp") ? "/bin/cp" : "/usr/bin/cp"
        let r = await ChildProcess.runCancellable(ProcessSpec(executable: cp, arguments: ["-a", "--", source, destination],
                                                              unsetEnvironment: ["PG*"], stderr: .capture(limit: 4096)))
        return r.succeeded
    }

    /// A real folder (not a symlink) owned by this user and closed to everyone else.
    static func isOwnedFolder(_ path: String) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0 else { return false }
        return (st.st_mode & S_IFMT) == S_IFDIR && st.st_uid == geteuid() && (st.st_mode & 0o077) == 0
    }
}
