import Foundation

/// An unprivileged account a program runs as. PostgreSQL refuses to run as root, so when the tool runs as root it
/// starts `initdb`, `postgres` (and a method's own tools) through `setpriv` as such an account.
///
/// A scratch cluster gets its account from `ScratchAccounts` (a dedicated `drill-scratch-N` user leased to that one
/// cluster): use `EmbeddedCluster.runAs`, which also carries the cluster's cgroup, so that whatever is started through
/// `wrap` joins it and is stopped with the cluster.
public struct RunAs: Sendable, Equatable {
    public var user: String
    public var uid: uid_t
    public var gid: gid_t
    /// The cgroup (v2) folder the wrapped program joins before it drops privileges; nil when there is none.
    public var cgroup: String? = nil
    /// True for an account of drill's own pool, which owns nothing and runs nothing but one scratch cluster at a time:
    /// every process of it may be killed at teardown.
    public var dedicated: Bool = false

    public static let setpriv = "/usr/bin/setpriv"

    /// The account `$DRILL_SCRATCH_USER`, else `postgres`, else `nobody`; nil when the tool is not root. Not a scratch
    /// cluster's account (each leases a dedicated one: `EmbeddedCluster.runAs`): what tests run the cluster that plays
    /// production as, which runs as `postgres` as production does.
    public static func productionAccount(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RunAs? {
        guard geteuid() == 0 else { return nil }
        var names: [String] = []
        if let u = environment["DRILL_SCRATCH_USER"], !u.isEmpty { names.append(u) }
        names += ["postgres", "nobody"]
        for name in names {
            if let account = RunAs.named(name) { return account }
            if name == environment["DRILL_SCRATCH_USER"] {
                throw DrillLiveError.io("DRILL_SCRATCH_USER=\(name) is not a user on this machine")
            }
        }
        throw DrillLiveError.io("running as root, but neither a postgres nor a nobody account exists to run the scratch server")
    }

    /// The account scratch servers ran as before each cluster leased its own.
    @available(*, deprecated, message: "each scratch cluster leases a dedicated account: use EmbeddedCluster.runAs (its wrap and chown); productionAccount() is the postgres-like account of test fixtures")
    public static func forScratchServer(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RunAs? {
        try productionAccount(environment: environment)
    }

    /// The account `name` from the user database.
    public static func named(_ name: String) -> RunAs? {
        guard let a = UserDatabase.account(named: name) else { return nil }
        return RunAs(user: name, uid: a.uid, gid: a.gid)
    }

    /// Wraps a command so it runs as this user: `setpriv` execs directly (the pid is the program's own), with no way
    /// to gain privileges (`--no-new-privs`: no set-user-ID program, no file capability), and, unless
    /// `dieWithParent` is false, killed when drill dies (spawn it with `ChildProcess`, whose spawning thread lives as
    /// long as drill). With a `cgroup`, a shell first moves itself into it, then execs `setpriv`.
    public func wrap(_ executable: String, _ arguments: [String], dieWithParent: Bool = true) -> (String, [String]) {
        var options = ["--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "--no-new-privs"]
        if dieWithParent { options += ["--pdeathsig", "KILL"] }
        let command = [Self.setpriv] + options + ["--", executable] + arguments
        guard let cgroup else { return (command[0], Array(command.dropFirst())) }
        return ("/bin/sh", ["-c", Self.joinCgroup, cgroup] + command)
    }

    /// `sh -c` script: join the cgroup named by `$0` (best effort: the account is dedicated, so its processes are found
    /// without it too), then exec the rest.
    static let joinCgroup = #"{ echo $$ > "$0/cgroup.procs"; } 2>/dev/null; exec "$@""#

    public func chown(_ path: String) throws {
        guard Glibc.chown(path, uid, gid) == 0 else {
            throw DrillLiveError.io("cannot hand \(path) to \(user): \(String(cString: strerror(errno)))")
        }
    }
}
