import DrillCore
import Foundation

/// A private copy of a GnuPG home folder for one decoding: gpg 2.x writes into its home (the trust database, a lock,
/// gpg-agent's sockets) and starts gpg-agent, which holds the secret key and outlives gpg; a copy leaves the user's
/// home untouched, and `remove()` ends that agent (`gpgconf --kill all`: `--no-autostart` would keep gpg from
/// using the secret key at all) before deleting the copy. The copy lives in a folder only drill's user can enter,
/// with a short path (agent socket paths must stay under about 107 bytes).
struct PrivateGnuPGHome: Sendable {
    let path: String

    /// Copies the home's keys (folders and regular files; sockets and locks are left out) into a new private folder.
    /// `source` nil: an empty home, for a passphrase-only (symmetric) backup.
    static func copy(of source: String?, under root: String, name: String) throws -> PrivateGnuPGHome {
        let base = (root + "/drill-gnupg-XXXXXX/S.gpg-agent.browser").utf8.count < 100 ? root : "/tmp"
        var template = Array((base + "/drill-gnupg-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw DrillError(.decryptionFailed, "cannot decrypt \(name): cannot create a private GnuPG home under \(base)")
        }
        let home = PrivateGnuPGHome(path: String(cString: made))
        guard let source else { return home }
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: source, isDirectory: &isDir), isDir.boolValue, let walk = fm.enumerator(atPath: source) else {
            try? fm.removeItem(atPath: home.path)
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
            try? fm.removeItem(atPath: home.path)
            throw DrillError(.decryptionFailed, "cannot decrypt \(name): cannot copy the GnuPG home \(source): \(error)")
        }
        return home
    }

    /// Ends the gpg-agent (and any other GnuPG daemon) started on this home, then deletes the copy.
    func remove() async {
        if let gpgconf = ["/usr/bin/gpgconf", "/bin/gpgconf", "/usr/local/bin/gpgconf"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            _ = try? await ChildProcess.run(ProcessSpec(executable: gpgconf, arguments: ["--homedir", path, "--kill", "all"],
                                                        environment: ["PATH": ProcessSpec.safePath],
                                                        inherit: .only(ProcessSpec.localeAndZone)))
        }
        try? FileManager.default.removeItem(atPath: path)
    }
}
