import Foundation

extension ReplicaMethod {
    /// The settings a clone must never take from production, and the values it runs with instead.
    public static var cloneOverrides: [(String, String)] {
        [("primary_slot_name", ""), ("synchronous_standby_names", ""), ("archive_mode", "off"), ("primary_conninfo", "")]
    }

    /// Copies the standby into a private scratch cluster, starts it as a standby with production's replication
    /// identity overridden, and times `pg_promote()` to the first write. The clone is adopted as soon as it exists, so
    /// the runner removes it on every path.
    func clone(_ drill: DrillConfig, _ c: ReplicaSettings.Clone, facts: Facts, limits: ReplicaLimits,
               _ ev: inout ReplicaEvidence, _ run: MethodRun) async throws {
        guard let cloner else { throw DrillError(.unsupported, "this build of drill cannot clone a standby") }
        let s = try Self.settings(drill)
        guard let standby = s.standbyToClone, let f = facts.standbys[c.from] else {
            throw DrillError(.configuration, "replica.clone.from names \(c.from), which is not a standby of this drill")
        }
        if f.tablespaces > 0 {
            throw DrillError(.unsupported, "standby \(c.from) has \(f.tablespaces) tablespace(s): drill does not clone tablespaces yet (pg_basebackup would write into their production paths)")
        }
        // The clone runs the primary's major: chosen (or the drill fails naming the versions) before anything else.
        let chosen = try await run.choosePostgres(Self.versionNeed(primary: ev.primary.serverVersion), catalog: postgres, drill: drill,
                                                  needsServer: true)
        // The copy needs disk and memory under the scratch root like any restore: wait for them (or fail) first. The
        // report keeps the replica drill's own restore point.
        try await run.located(RestorePoint(uri: c.url ?? standby.url, name: "clone of \(c.from)", format: "basebackup",
                                           sizeBytes: facts.cloneBytes), staged: false)
        run.record(point: try await locate(drill, run.context))
        run.backup { $0.sizeBytes = nil }
        var block = ReplicaEvidence.Clone(from: c.from, detectionSeconds: Double(c.detection.seconds))
        block.maxRate = c.maxRate
        ev.clone = block
        run.evidence(ev)
        let session = try await run.phase(.provision, detail: "scratch cluster for a clone of \(c.from)") {
            run.adopt(try await cloner.prepare(drill: drill, profile: drill.restore.profile, postgres: chosen))
        }
        let t0 = clock.now
        let copy = try await run.phase(.clone, detail: "pg_basebackup from \(c.from)\(c.maxRate.map { ", at most \($0)/s" } ?? "")") {
            try await session.copy(from: c.url ?? standby.url, maxRate: c.maxRate, limits: limits)
        }
        block.tool = copy.tool
        block.copySeconds = round3(seconds(t0.duration(to: clock.now)))
        ev.clone = block
        run.evidence(ev)
        let within = Duration.seconds(c.timeout.seconds)
        let t1 = clock.now
        let started = try await run.phase(.cloneStart, detail: "as a standby, production's replication identity overridden") {
            try await session.start(superuser: f.bootstrapSuperuser ?? "postgres", within: within)
        }
        block.startSeconds = round3(seconds(t1.duration(to: clock.now)))
        block.inherited = started.inherited
        block.effective = started.effective
        ev.clone = block
        run.evidence(ev)
        for (key, expected) in Self.cloneOverrides where started.effective[key].map({ $0 != expected }) ?? false {
            throw DrillError(.provisionFailed, "the clone runs with \(key) = '\(started.effective[key]!)' instead of '\(expected)': it could act on production, so it was stopped")
        }
        let promotion = try await run.phase(.promote, detail: "pg_promote() to the first write") {
            try await session.promote(within: within)
        }
        block.promotionSeconds = round3(promotion.seconds)
        block.promoteCallSeconds = round3(promotion.promoteCallSeconds)
        block.timeline = promotion.timeline
        ev.clone = block
        run.evidence(ev)
    }
}
