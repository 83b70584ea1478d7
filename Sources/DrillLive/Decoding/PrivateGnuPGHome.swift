import DrillCore
import Foundation

/// A private copy of a GnuPG home folder for one decoding: gpg 2.x writes into its home (the trust database, a lock,
/// gpg-agent's sockets) and starts gpg-agent, which holds the secret key and outlives gpg; a copy leaves the user's
/// home untouched, and `remove()` ends that agent (`gpgconf --kill all`: `--no-autostart` would keep gpg from
/// using the secret key at all) before deleting the copy. The copy lives in a folder only drill's user can enter,
/// with a short path (agent socket paths must stay under about 107 bytes).
///
/// The copy is recorded in the run registry of the scratch root (`RunRegistry`, kind `gnupg`) from its creation to
/// its removal: when drill is killed hard, gpg dies with it but its agent (a daemon) does not, and `drill cleanup` or
/// the next drill stops that agent and deletes the copy (`stopAgents`, `RunCleanup`).
struct PrivateGnuPGHome: Sendable {
    let path: String
    /// The scratch root whose run registry records the copy, and the record's id.
    let registration: (root: String, id: String)?

    /// The prefix of every copy's folder name.
    static let prefix = "drill-gnupg-"

    /// Copies the home's keys (folders and regular files; sockets and locks are left out) into a new private folder.
    /// `source` nil: an empty home, for a passphrase-only (symmetric) backup.
    static func copy(of source: String?, under root: String, name: String, drill: String?) throws -> PrivateGnuPGHome {
        let base = (root + "/\(prefix)XXXXXX/S.gpg-agent.browser").utf8.count < 100 ? root : "/tmp"
        var template = Array((base + "/\(prefix)XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw DrillError(.decryptionFailed, "cannot decrypt \(name): cannot create a private GnuPG home under \(base)")
        }
        let path = String(cString: made)
        let id = RunRegistry.at(root).add(RunItem(kind: .gnupg, drill: drill, paths: [path]))
        let home = PrivateGnuPGHome(path: path, registration: (root, id))
        guard let source else { return home }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: source, isDirectory: &isDir), isDir.boolValue, let walk = fm.enumerator(atPath: source) else {
            home.forget()
            throw DrillError(.decryptionFailed, "cannot decrypt \(name): the GnuPG home \(source) (backup.decrypt.gpg_homedir) is not a readable folder")
        }
        do {
            while let rel = walk.nextObject() as? String {
                let from = (source as NSString).appendingPathComponent(rel)
                let to = (home.path as NSString).appendingPathComponent(rel)
                let leaf = (rel as NSString).lastPathComponent
                let type = try fm.attributesOfItem(atPath: from)[.type] as? FileAttributeType
                if type == .typeDirectory {
                    try fm.createDirectory(atPath: to, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                } else if type == .typeRegular, !leaf.hasPrefix(".#lk"), !leaf.hasSuffix(".lock") {
                    let data = try Data(contentsOf: URL(fileURLWithPath: from))
                    guard fm.createFile(atPath: to, contents: data, attributes: [.posixPermissions: 0o600]) else {
                        throw DrillLiveError.io("cannot write \(to)")
                    }
                }
            }
        } catch {
            home.forget()
            throw DrillError(.decryptionFailed, "cannot decrypt \(name): cannot copy the GnuPG home \(source): \(error)")
        }
        return home
    }

    /// Ends the gpg-agent (and any other GnuPG daemon) started on this home, then deletes the copy.
    func remove() async {
        let path = self.path
        await OffPool.run { _ = Self.stopAgents(home: path) }
        forget()
    }

    /// Deletes the copy (no daemon runs on it) and its record.
    private func forget() {
        try? FileManager.default.removeItem(atPath: path)
        if let registration { RunRegistry.at(registration.root).remove(registration.id) }
    }

    static let gpgconf = ["/usr/bin/gpgconf", "/bin/gpgconf", "/usr/local/bin/gpgconf"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Stops the GnuPG daemons of `home` (blocking): `gpgconf --homedir HOME --kill all`, then SIGKILL for any of drill's
    /// user whose command line still names the home a few seconds later. Returns how many were running on it.
    static func stopAgents(home: String) -> Int {
        let running = daemons(of: home)
        if let gpgconf {
            let child = try? ChildProcess(ProcessSpec(executable: gpgconf, arguments: ["--homedir", home, "--kill", "all"],
                                                      environment: ["PATH": ProcessSpec.safePath],
                                                      inherit: .only(ProcessSpec.localeAndZone)))
            if let child, child.waitBlocking(timeout: 10) == nil { child.signal(SIGKILL) }
        }
        let deadline = Date().addingTimeInterval(3)
        while !running.filter({ ProcessTable.isAlive(pid: $0.pid, startTicks: $0.startTicks) }).isEmpty && Date() < deadline {
            usleep(50_000)
        }
        for p in running where ProcessTable.isAlive(pid: p.pid, startTicks: p.startTicks) { kill(p.pid, SIGKILL) }
        return running.count
    }

    /// The live processes of drill's user whose command line names `home` or a path in it (`gpg-agent --homedir HOME
    /// --daemon`, `scdaemon`, `dirmngr`): the folder's name is random, so nothing else names it.
    static func daemons(of home: String) -> [RunItem.Process] {
        ProcessTable.live(uid: geteuid()).filter { e in
            guard e.pid != getpid(), let data = FileManager.default.contents(atPath: "/proc/\(e.pid)/cmdline") else { return false }
            return data.split(separator: 0).contains { arg in
                let a = String(decoding: arg, as: UTF8.self)
                return a == home || a.hasPrefix(home + "/")
            }
        }.map { RunItem.Process(pid: $0.pid, startTicks: $0.startTicks) }
    }
}
