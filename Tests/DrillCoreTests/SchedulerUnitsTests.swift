import DrillCore
import DrillTesting
import Foundation
import Testing

@Suite("Scheduler units")
struct SchedulerUnitsTests {
    let from = ReportFixtures.date("2026-01-01T00:00:00Z")

    @Test(arguments: [
        (["@monthly", "@weekly"], 60), (["@daily", "*/15 * * * *"], 15), (["*/7 * * * *"], 4),  // 56 → 0 is 4 minutes
        // Per tier: two tiers half an hour apart need only hourly checks.
        (["0 3 * * 1-5", "30 3 * * 1-5"], 60), (["0,30 3 * * *"], 30), (["* * * * *"], 1), (["0,45 * * * *"], 15),
    ])
    func cadenceCoversTheFinestSchedule(_ schedules: [String], _ minutes: Int) {
        #expect(SchedulerUnits.checkIntervalMinutes(schedules: schedules, from: from) == minutes)
    }

    @Test(arguments: SchedulerUnits.Kind.allCases)
    func everyUnitRunsTheDueDrills(_ kind: SchedulerUnits.Kind) {
        let text = SchedulerUnits.render(kind, every: 15, invocation: .init(executable: "/usr/bin/drill", configDir: "/etc/my drill"))
        switch kind {
        case .cron:
            #expect(text.contains("*/15 * * * * flock -n /tmp/drill-run-due.lock /usr/bin/drill run --due --config '/etc/my drill'"))
        case .systemd:
            #expect(text.contains("ExecStart=/usr/bin/drill run --due --config '/etc/my drill'"))
            #expect(text.contains("OnCalendar=*-*-* *:00/15:00 UTC"))
        case .kubernetes:
            #expect(text.contains("schedule: \"*/15 * * * *\""))
            #expect(text.contains("concurrencyPolicy: Forbid"))
            #expect(text.contains("- \"--due\""))
        case .airflow:
            // Airflow schedules each tier's DAG itself: no drill here, so no DAG.
            #expect(text.contains("from airflow.sdk import DAG"))
            #expect(!text.contains("with DAG("))
        }
    }
}

@Suite("Shards and the Airflow DAG")
struct ShardAndAirflowTests {
    @Test func shardsSplitTheFleetOnceEach() {
        let names = (0..<200).map { "db\($0)" }
        let shards = (0..<4).map { Shard(index: $0, count: 4)! }
        for name in names { #expect(shards.filter { $0.contains(name) }.count == 1) }
        let sizes = shards.map { s in names.filter(s.contains).count }
        #expect(sizes.allSatisfy { $0 > 20 }, "a hash that puts everything in one shard: \(sizes)")
        #expect(Shard(parsing: "3/4") == Shard(index: 3, count: 4))
        #expect(Shard(parsing: "4/4") == nil)
        #expect(Shard(parsing: "-1/4") == nil)
        #expect(Shard(parsing: "1") == nil)
        // Stable across runs and machines: a fixed value.
        #expect(Shard(index: 0, count: 1)!.contains("anything"))
        // FNV-1a 64 of "a" is a published test vector: the hash is the same on every machine.
        #expect(Shard.hash("a") == 0xaf63_dc4c_8601_ec8c)
    }

    @Test func airflowHasOneDAGPerTierAndATaskPerDrill() {
        let tiers = ["critical": TierConfig(name: "critical", rto: DrillDuration(seconds: 3600), rpo: DrillDuration(seconds: 300)),
                     "standard": TierConfig(name: "standard", rto: DrillDuration(seconds: 86400), rpo: DrillDuration(seconds: 86400), schedule: "@weekly")]
        let drills = [DrillConfig(name: "shop", tier: "critical", backup: .init(location: "/b")),
                      DrillConfig(name: "ledger", tier: "critical", backup: .init(location: "/b")),
                      DrillConfig(name: "logs", tier: "standard", backup: .init(location: "/b"))]
        let text = SchedulerUnits.render(.airflow, ScheduleRequest(minutes: 60, invocation: .init(executable: "/usr/bin/drill", configDir: "/etc/drill"),
                                                                   drills: drills, tiers: tiers))
        #expect(text.components(separatedBy: "with DAG(").count == 3)
        #expect(text.contains("dag_id=\"drill_critical\""))
        #expect(text.contains("schedule=\"@weekly\""))
        #expect(text.contains("execution_timeout\": datetime.timedelta(seconds=7200)"))
        #expect(text.contains("execution_timeout\": datetime.timedelta(seconds=172800)"))
        #expect(text.components(separatedBy: "skip_on_exit_code=None").count == 4)
        #expect(text.contains("catchup=False") && text.contains("max_active_runs=1"))
        #expect(!text.contains("schedule_interval"))
    }
}
