import Foundation

/// A small process that outlives drill to stop a scratch cluster when drill dies without tearing it down (SIGKILL,
/// the OOM killer, a scheduler's hard timeout). It reads a pipe whose only writer is drill: at end-of-file it kills
/// the cluster's cgroup and every process of its dedicated account (and, without either, the pids drill named),
/// then exits. Drill's death closes the pipe, whatever killed it.
///
/// It runs in its own session and ignores the usual signals, so a Ctrl-C or a signal to drill's process group does
/// not take it along; it holds the account's lease lock until it is done, so no new cluster gets the account while
/// the old one's processes are being killed. At a normal teardown drill writes `done` first, and the watchdog's
/// sweep finds nothing left; with `--keep` drill writes `keep` and the watchdog leaves.
final class ScratchWatchdog: @unchecked Sendable {
    private let child: ChildProcess
    private let lock = NSLock()
    private var pipe: FileHandle?

    var pid: Int32 { child.pid }

    /// The watchdog's script: `$1` uid (or `-`), `$2` gid, `$3` cgroup folder (or empty).
    static let script = #"""
        trap '' INT TERM HUP QUIT PIPE
        uid=$1; gid=$2; cg=$3; mode=lost; pids=
        while read -r word arg; do
          case $word in
            pid) pids="$pids $arg" ;;
            done) mode=done ;;
            keep) mode=keep ;;
          esac
        done
        [ "$mode" = keep ] && exit 0
        sweep() {
          if [ -n "$cg" ]; then { echo 1 > "$cg/cgroup.kill"; } 2>/dev/null; fi
          if [ "$uid" != - ]; then
            /usr/bin/setpriv --reuid="$uid" --regid="$gid" --clear-groups -- /bin/sh -c 'kill -KILL -1' 3<&- 2>/dev/null
          fi
          if [ "$mode" = lost ]; then
            for p in $pids; do pkill -KILL -P "$p" 3<&- 2>/dev/null; kill -KILL "$p" 2>/dev/null; done
          fi
        }
        sweep; sleep 0.05; sweep
        if [ -n "$cg" ]; then
          i=0
          while [ $i -lt 60 ] && [ -d "$cg" ] && ! rmdir "$cg" 2>/dev/null; do sleep 0.05; sweep; i=$((i+1)); done
        fi
        exit 0
        """#

    /// Starts a watchdog for a cluster's account (swept only when `dedicated`) and cgroup, holding `lockFD`.
    init(account: RunAs?, cgroup: ScratchCgroup?, lockFD: Int32) throws {
        let uid = account.flatMap { $0.dedicated ? "\($0.uid)" : nil } ?? "-"
        let gid = account.map { "\($0.gid)" } ?? "-"
        child = try ChildProcess(ProcessSpec(
            executable: "/bin/sh", arguments: ["-c", Self.script, "drill-watchdog", uid, gid, cgroup?.path ?? ""],
            environment: ["PATH": ProcessSpec.safePath], workingDirectory: "/", stdin: .pipe, stdout: .null, stderr: .null,
            inherit: .only([]), dieWithParent: false, newSession: true, passDescriptors: lockFD >= 0 ? [lockFD] : []))
        pipe = child.stdin
    }

    /// Names a process to kill if drill dies (used when there is neither a dedicated account nor a cgroup).
    func watch(pid: Int32) { send("pid \(pid)\n") }

    /// Normal teardown: drill has stopped the cluster; the watchdog sweeps once more and exits. Waits for it.
    func finish(within seconds: Double = 5) {
        send("done\n")
        closePipe()
        _ = child.waitBlocking(timeout: seconds)
    }

    /// The cluster stays running after drill (`--keep`): the watchdog exits without touching it.
    func keep() {
        send("keep\n")
        closePipe()
        _ = child.waitBlocking(timeout: 5)
    }

    var isRunning: Bool { child.isRunning }

    private func send(_ line: String) {
        lock.withLock { try? pipe?.write(contentsOf: Data(line.utf8)) }
    }

    private func closePipe() {
        lock.withLock {
            try? pipe?.close()
            pipe = nil
        }
    }
}
