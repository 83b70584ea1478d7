import ArgumentParser
import DrillCore
import DrillLive
import Foundation
import Logging

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what a run would do: each drill's tier, the backup it would restore, its age against the RPO, and the last measured RTO."
    )

    @OptionGroup var options: ConfigOptions
    @OptionGroup var archiveOptions: ArchiveOptions

    @Argument(help: "Tier or drill names (default: every drill).")
    var targets: [String] = []

    @Flag(name: .long, help: "Print JSON for machines.")
    var json = false

    struct Entry: Codable {
        var drill: String
        var tier: String
        /// The kind of drill (`dump`, `basebackup`, `pgbackrest`, …).
        var method: String
        var target: String
        var backup: String?
        var format: String?
        var sizeBytes: Int64?
        var recoveryPoint: Date?
        var recoveryPointSource: String?
        var ageSeconds: Double?
        var rpoSeconds: Int64
        var rpoMet: Bool?
        var rtoSeconds: Int64
        var lastRtoSeconds: Double?
        var lastRunAt: Date?
        var problem: String?
        /// The restore points present, against the tier's retention and backup interval.
        var coverage: RetentionCoverage?
        /// The backup's PostgreSQL version (`17.12 (archive header, lz4-compressed)`), the one that would restore it (`18.6 (/bin)`),
        /// or why none would.
        var postgresBackup: String?
        /// How the archive's data is compressed (`none`, `gzip`, `lz4`, `zstd`), which the restoring build must read.
        var postgresCompression: String?
        var postgresRestore: String?
        var postgresProblem: String?
        /// An incremental base backup's chain, full backup first: what the restore would combine.
        var incrementalChain: [String]?
    }

    func run() async throws {
        let folder = try options.load()
        let drills = try options.select(targets, all: targets.isEmpty, in: folder)
        let deps = await LiveWiring.dependencies(logger: Logger(label: "drill.plan"))
        let archive = try archiveOptions.open(config: options.config)
        // Each selected drill's newest reports, down to its last restore (not the whole archive).
        let history = (try? await archive.newest(drills: Set(drills.map(\.name))) { $0.contains(where: \.restored) })?.all ?? []
        let now = Date()
        var entries: [Entry] = []
        for d in drills {
            let tier = folder.tier(of: d)
            let last = history.last { $0.drill == d.name && $0.restored }
            var e = Entry(drill: d.name, tier: d.tier, method: d.method.rawValue, target: d.target.kind,
                          rpoSeconds: tier.rpo.seconds, rtoSeconds: tier.rto.seconds,
                          lastRtoSeconds: last?.measured.rtoSeconds, lastRunAt: last?.startedAt)
            do {
                guard let method = deps.methods.method(for: d.method) else {
                    throw DrillError(.unsupported, "this build of drill cannot run \(d.method) drills")
                }
                let plan = try await method.plan(d, deps.methodContext)
                e.backup = plan.point.uri
                e.format = plan.point.format
                e.sizeBytes = plan.point.sizeBytes
                e.recoveryPoint = plan.newestRecoverable
                e.recoveryPointSource = plan.newestRecoverableSource
                e.incrementalChain = plan.incrementalChain
                e.ageSeconds = now.timeIntervalSince(plan.newestRecoverable)
                e.rpoMet = e.ageSeconds! <= Double(tier.rpo.seconds)
                // The backup's PostgreSQL and the one that would restore it (a method that restores nothing needs
                // none: a replica drill without a clone). A compressed or encrypted dump's version is read inside its
                // layers (its head only): a key that does not open it is this drill's problem, told here, and the plan
                // goes on.
                if let catalog = deps.postgres {
                    do {
                        let need = try await method.versionNeed(d, deps.methodContext)
                        if need != nil || method.hasRestorePoints {
                            e.postgresBackup = need.map { "\($0.version) (\($0.source)\($0.compression.map { ", \($0.adjective)" } ?? ""))" }
                            e.postgresCompression = need?.compression?.rawValue
                            let inventory = await catalog.inventory(for: d)
                            let needsServer = d.target == .embedded
                            if let chosen = PostgresSelection.choose(need, in: inventory, needsServer: needsServer) {
                                e.postgresRestore = chosen.label
                            } else {
                                e.postgresProblem = PostgresSelection.noneFits(need, in: inventory, needsServer: needsServer).message
                            }
                        }
                    } catch {
                        let code = (error as? DrillError)?.code.rawValue
                        e.postgresProblem = "cannot read the backup's version\(code.map { " (\($0))" } ?? ""): \(URLRedaction.redactURLs(in: "\(error)"))"
                    }
                }
                if method.hasRestorePoints {
                    let points = try await method.restorePoints(d, deps.methodContext)
                    e.coverage = RetentionCoverage(times: points.compactMap { $0.recoveryPoint ?? $0.createdAt ?? $0.modifiedAt },
                                                   now: now, retention: tier.retention, interval: tier.backupInterval)
                }
            } catch {
                e.problem = URLRedaction.redactURLs(in: "\(error)")
            }
            entries.append(e)
        }
        if json {
            let enc = DrillReport.encoder()
            Console.out(String(decoding: try enc.encode(entries), as: UTF8.self))
            return
        }
        for e in entries {
            Console.out("\(e.drill) [\(e.tier), \(e.method), \(e.target)]")
            if let problem = e.problem {
                Console.out("  backup: PROBLEM — \(problem)")
            } else {
                Console.out("  backup: \(e.backup ?? "?") (\(e.format ?? "?")\(e.sizeBytes.map { ", \($0) bytes" } ?? ""))")
                let verdict = e.rpoMet == true ? "within" : "OVER"
                Console.out("  age:    \(formatSeconds(e.ageSeconds ?? 0)) (\(e.recoveryPointSource ?? "")) — \(verdict) the RPO target of \(DrillDuration(seconds: e.rpoSeconds))")
                if let chain = e.incrementalChain {
                    Console.out("  chain:  \(chain.joined(separator: " → ")) (incremental: combined with pg_combinebackup at restore)")
                }
            }
            if e.postgresBackup != nil || e.postgresRestore != nil || e.postgresProblem != nil {
                let restore = e.postgresRestore.map { "would restore with PostgreSQL \($0)" } ?? "PROBLEM — \(e.postgresProblem ?? "none fits")"
                Console.out("  postgres: backup \(e.postgresBackup ?? "version unknown"); \(restore)")
            }
            if let c = e.coverage, c.count > 0 {
                var line = "  restore points: \(c.count)"
                if let oldest = c.oldest, let newest = c.newest {
                    line += ", oldest \(formatSeconds(now.timeIntervalSince(oldest))) old, newest \(formatSeconds(now.timeIntervalSince(newest))) old"
                }
                if let gap = c.largestGapSeconds { line += ", largest gap \(formatSeconds(gap))" }
                if let r = c.retentionSeconds { line += " (retention promised: \(DrillDuration(seconds: r)))" }
                Console.out(line)
                for f in c.findings { Console.out("  COVERAGE — \(f)") }
            }
            if let rto = e.lastRtoSeconds, let at = e.lastRunAt {
                Console.out("  last measured RTO: \(formatSeconds(rto)) on \(RFC3339.format(at)) (target \(DrillDuration(seconds: e.rtoSeconds)))")
            } else {
                Console.out("  last measured RTO: none in the archive (target \(DrillDuration(seconds: e.rtoSeconds)))")
            }
        }
    }
}
