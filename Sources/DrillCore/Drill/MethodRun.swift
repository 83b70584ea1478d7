import Foundation
import Logging
import Synchronization

/// The runner's side of one drill, as a method sees it: timed phases, the scratch scope, a private staging folder,
/// and typed entries of the report. Handed to `DrillMethod.restore`.
public final class MethodRun: Sendable {
    public let drillStart: Date
    /// `restore.jobs`, or the number of cores.
    public let jobs: Int
    public let tier: TierConfig
    public let context: MethodContext
    public let observer: any PhaseObserver
    /// A random number in `0..<1`, for `recovery.target: random`.
    public let randomUnit: @Sendable () -> Double
    let recorder: any RunRecorder
    let scope: ScratchScope
    private let staging: StagingArea
    private let gate: ResourceGate?
    private let hostMemoryBytes: UInt64
    private let releases = Mutex<[@Sendable () -> Void]>([])

    init(drillStart: Date, jobs: Int, tier: TierConfig, context: MethodContext, observer: any PhaseObserver,
         randomUnit: @escaping @Sendable () -> Double, recorder: any RunRecorder, scope: ScratchScope, stagingRoot: String,
         drillName: String, gate: ResourceGate? = nil, hostMemoryBytes: UInt64 = ProcessInfo.processInfo.physicalMemory,
         janitor: (any RunJanitor)? = nil) {
        self.gate = gate
        self.hostMemoryBytes = hostMemoryBytes
        self.drillStart = drillStart
        self.jobs = jobs
        self.tier = tier
        self.context = context
        self.observer = observer
        self.randomUnit = randomUnit
        self.recorder = recorder
        self.scope = scope
        self.staging = StagingArea(root: stagingRoot, drill: drillName, janitor: janitor)
    }

    public var logger: Logger { context.logger }

    // MARK: Phases

    /// Runs one timed phase; a thrown error closes it as failed.
    public func phase<T: Sendable>(_ name: PhaseName, detail: String, _ body: () async throws -> T) async throws -> T {
        try Task.checkCancellation()
        begin(name, detail: detail)
        do {
            let value = try await body()
            end(name, ok: true, detail: detail)
            return value
        } catch {
            fail(name)
            throw error
        }
    }

    /// Opens a phase that another step closes (phases that overlap, such as fetch and provision).
    public func begin(_ name: PhaseName, detail: String) {
        observer.phaseStarted(name, detail: URLRedaction.redactURLs(in: detail))
        recorder.beginPhase(name)
    }

    /// Closes a phase; `bytes`: what it moved, kept in the report with its throughput (MiB/s).
    public func end(_ name: PhaseName, ok: Bool, detail: String, bytes: Int64? = nil) {
        recorder.endPhase(name, ok: ok, observer: observer, detail: URLRedaction.redactURLs(in: detail), bytes: bytes)
    }

    /// Closes a phase as failed (no-op when it is not open).
    public func fail(_ name: PhaseName) { recorder.failPhase(name, observer: observer) }

    // MARK: Scratch lifetime

    /// Hands a scratch database or cluster to the runner, which tears it down on every path (or keeps the one the
    /// checks ran on, with `--keep`). Call it as soon as the scratch exists.
    @discardableResult
    public func adopt<S: ScratchDatabase>(_ scratch: S) -> S {
        scope.adopt(scratch)
        return scratch
    }

    /// A private 0700 folder for staged downloads, created on first use and removed with everything in it when the
    /// drill ends.
    public func stagingDirectory() throws -> String { try staging.directory() }

    /// Deletes a staged file in the background now (the restore no longer needs it); the runner waits for it at the end.
    public func discard(_ path: String) { staging.discard(path) }

    /// Files staged outside the staging folder that must go when the drill ends.
    public func removeAtEnd(_ path: String) { staging.removeAtEnd(path) }

    func cleanUp() async {
        await staging.cleanUp()
        for release in releases.withLock({ r in defer { r = [] }; return r }) { release() }
    }

    // MARK: The report's typed entries

    /// Records the restore point the drill uses and waits until this host has the disk and memory to restore it
    /// (see `ResourceGate`); throws when it never will. Methods call it right after locating, before fetching.
    /// `staged`: whether the backup will be copied to local disk first.
    public func located(_ point: RestorePoint, staged: Bool) async throws {
        record(point: point)
        guard let gate else { return }
        let need = ResourceNeed.estimate(point: point, staged: staged, jobs: jobs, hostMemoryBytes: hostMemoryBytes)
        let release = try await gate.admit(need)
        releases.withLock { $0.append(release) }
    }

    /// The restore point the drill uses (backup.uri, name, format, size, times).
    public func record(point: RestorePoint) {
        recorder.withReport { r in
            r.backup.uri = URLRedaction.redactURLs(in: point.uri)
            r.backup.name = point.name
            r.backup.format = point.format
            r.backup.sizeBytes = point.sizeBytes ?? r.backup.sizeBytes
            r.backup.modifiedAt = point.modifiedAt
            if let c = point.createdAt { r.backup.createdAt = c }
            if let rp = point.recoveryPoint {
                r.measured.recoveryPoint = rp
                r.measured.recoveryPointSource = point.recoveryPointSource
            }
        }
    }

    public func backup(_ update: (inout DrillReport.Backup) -> Void) { recorder.withReport { update(&$0.backup) } }
    public func restoreInfo(_ update: (inout DrillReport.Restore) -> Void) { recorder.withReport { update(&$0.restore) } }

    /// Sets the method's evidence block.
    public func evidence<E: MethodEvidence>(_ value: E) { recorder.withReport { $0[keyPath: E.reportKey] = value } }

    /// Updates the method's evidence block, if it was set.
    public func evidence<E: MethodEvidence>(_: E.Type, _ update: (inout E) -> Void) {
        recorder.withReport { r in
            if var e = r[keyPath: E.reportKey] {
                update(&e)
                r[keyPath: E.reportKey] = e
            }
        }
    }

    /// The method's evidence block as it stands.
    public func currentEvidence<E: MethodEvidence>(_: E.Type) -> E? {
        var out: E?
        recorder.withReport { out = $0[keyPath: E.reportKey] }
        return out
    }

    /// Something worth recording that does not stop the drill.
    public func finding(_ text: String) { recorder.withReport { $0.findings.append(URLRedaction.redactURLs(in: text)) } }
}

/// The report under construction, as the runner exposes it to `MethodRun`.
protocol RunRecorder: Sendable {
    func beginPhase(_ p: PhaseName)
    func endPhase(_ p: PhaseName, ok: Bool, observer: any PhaseObserver, detail: String)
    func endPhase(_ p: PhaseName, ok: Bool, observer: any PhaseObserver, detail: String, bytes: Int64?)
    func failPhase(_ p: PhaseName, observer: any PhaseObserver)
    func withReport(_ body: (inout DrillReport) -> Void)
}

/// The scratch databases and clusters of one drill, torn down together by the runner.
final class ScratchScope: Sendable {
    private let items = Mutex<[any ScratchDatabase]>([])

    func adopt(_ scratch: any ScratchDatabase) { items.withLock { $0.append(scratch) } }

    /// Every adopted scratch, oldest first.
    var all: [any ScratchDatabase] { items.withLock { $0 } }
}

/// The drill's private staging folder and the files it removes.
final class StagingArea: Sendable {
    private struct State {
        var dir: String?
        var token: String?
        var removals: [Task<Void, Never>] = []
        var atEnd: [String] = []
    }
    private let root: String
    private let drill: String
    private let state = Mutex(State())
    /// Records the folder, so that a later run removes it if this one is killed.
    private let janitor: (any RunJanitor)?

    init(root: String, drill: String, janitor: (any RunJanitor)? = nil) {
        self.root = root
        self.drill = drill
        self.janitor = janitor
    }

    func directory() throws -> String {
        try state.withLock { s in
            if let d = s.dir { return d }
            let dir = (root as NSString).appendingPathComponent("drill-stage-\(drill)-\(UUID().uuidString.prefix(8))")
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw DrillError(.provisionFailed, "cannot create a staging folder under \(root): \(error.localizedDescription)")
            }
            s.dir = dir
            s.token = janitor?.track(dir, drill: drill)
            return dir
        }
    }

    func discard(_ path: String) {
        let t = Task.detached { _ = try? FileManager.default.removeItem(atPath: path) }
        state.withLock { $0.removals.append(t) }
    }

    func removeAtEnd(_ path: String) { state.withLock { $0.atEnd.append(path) } }

    func cleanUp() async {
        let s = state.withLock { s in
            let copy = s
            s = State()
            return copy
        }
        for t in s.removals { await t.value }
        for p in s.atEnd { try? FileManager.default.removeItem(atPath: p) }
        if let d = s.dir { try? FileManager.default.removeItem(atPath: d) }
        if let token = s.token, let janitor, s.dir.map({ !FileManager.default.fileExists(atPath: $0) }) ?? true {
            janitor.untrack(token)
        }
    }
}
