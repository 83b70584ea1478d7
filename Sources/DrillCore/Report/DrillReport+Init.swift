import Foundation

// Public memberwise initialisers (Swift's synthesised ones are internal), so tests and tools can build reports.

extension DrillReport {
    public init(drill: String, tier: String, status: DrillStatus, startedAt: Date, finishedAt: Date, target: Targets,
                measured: Measured, backup: Backup, restore: Restore, phases: [Phase], checks: [Check], findings: [String],
                scratch: Scratch, environment: Environment, previousSHA256: String? = nil, wal: WAL? = nil,
                failureCode: String? = nil, method: MethodKind? = nil, barman: BarmanEvidence? = nil,
                pgbackrest: PgBackRestEvidence? = nil, replica: ReplicaEvidence? = nil) {
        self.replica = replica
        self.method = method
        self.drill = drill
        self.tier = tier
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.target = target
        self.measured = measured
        self.backup = backup
        self.restore = restore
        self.phases = phases
        self.checks = checks
        self.findings = findings
        self.scratch = scratch
        self.environment = environment
        self.previousSHA256 = previousSHA256
        self.wal = wal
        self.barman = barman
        self.failureCode = failureCode
        self.pgbackrest = pgbackrest
    }
}
