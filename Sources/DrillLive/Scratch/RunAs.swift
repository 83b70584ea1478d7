import Foundation

/// The unprivileged account the scratch server runs as. PostgreSQL refuses to run as root, so when the tool runs as
/// root it starts `initdb` and `postgres` through `setpriv` as `$DRILL_SCRATCH_USER`, else `postgres`, else `nobody`.
public struct RunAs: Sendable, Equatable {
    public var user: String
    public var uid: uid_t
    public var gid: gid_t

    /// nil when the tool is not root (the server then runs as the current user).
    public static func forScratchServer(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RunAs? {
        guard geteuid() == 0 else { return nil }
        var names: [String] = []
        if let u = environment["DRILL_SCRATCH_USER"], !u.isEmpty { names.append(u) }
        names += ["postgres", "nobody"]
        for name in names {
            if let pw = getpwnam(name) { return RunAs(user: name, uid: pw.pointee.pw_uid, gid: pw.pointee.pw_gid) }
            if name == environment["DRILL_SCRATCH_USER"] {
                throw DrillLiveError.io("DRILL_SCRATCH_USER=\(name) is not a user on this machine")
            }
        }
        throw DrillLiveError.io("running as root, but neither a postgres nor a nobody account exists to run the scratch server")
    }

    /// Wraps a command so it runs as this user (`setpriv` execs directly: the pid is the program's own).
    public func wrap(_ executable: String, _ arguments: [String]) -> (String, [String]) {
        ("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "--", executable] + arguments)
    }

    public func chown(_ path: String) throws {
        guard Glibc.chown(path, uid, gid) == 0 else {
            throw DrillLiveError.io("cannot hand \(path) to \(user): \(String(cString: strerror(errno)))")
        }
    }
}
