/// What the runner asks of the run registry (drill's record of what each run made under its scratch root, in
/// DrillLive), so that a drill killed without a chance to tear down (SIGKILL, the OOM killer, a hard timeout) leaves
/// nothing for good: the next drill removes it, and the next report of the dead drill says so.
public protocol RunJanitor: Sendable {
    /// Called when a drill starts, before anything is provisioned: removes what dead runs left and returns the
    /// findings for this drill's report ("The previous run, pid N started T, died without a report; …").
    func beforeDrill(_ drill: String) async -> [String]
    /// Records a folder or file the drill makes (its staging folder) until `untrack`; returns a token.
    func track(_ path: String, drill: String) -> String
    func untrack(_ token: String)
}
