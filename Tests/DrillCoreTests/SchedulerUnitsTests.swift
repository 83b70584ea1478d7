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
        }
    }
}
