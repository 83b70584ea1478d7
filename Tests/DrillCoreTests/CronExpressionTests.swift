import DrillCore
import DrillTesting
import Foundation
import Testing

@Suite("Cron expressions")
struct CronExpressionTests {
    let d = ReportFixtures.date

    @Test(arguments: [
        // (schedule, now, most recent instant at or before now, next instant after now)
        ("@monthly", "2026-03-15T10:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"),
        ("@monthly", "2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"),
        ("@monthly", "2026-02-28T23:59:59Z", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"),
        ("@monthly", "2026-12-31T23:59:00Z", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"),
        ("@weekly", "2026-03-04T12:00:00Z", "2026-03-01T00:00:00Z", "2026-03-08T00:00:00Z"),  // 1 March 2026 is a Sunday
        ("@daily", "2026-03-04T12:00:00Z", "2026-03-04T00:00:00Z", "2026-03-05T00:00:00Z"),
        ("@hourly", "2026-03-04T12:34:56Z", "2026-03-04T12:00:00Z", "2026-03-04T13:00:00Z"),
        ("30 2 * * 1-5", "2026-03-07T12:00:00Z", "2026-03-06T02:30:00Z", "2026-03-09T02:30:00Z"),  // Sat → Fri, Mon
        ("*/15 * * * *", "2026-03-04T12:44:00Z", "2026-03-04T12:30:00Z", "2026-03-04T12:45:00Z"),
        ("0 6 31 * *", "2026-04-15T00:00:00Z", "2026-03-31T06:00:00Z", "2026-05-31T06:00:00Z"),
        ("0 0 29 2 *", "2026-06-01T00:00:00Z", "2024-02-29T00:00:00Z", "2028-02-29T00:00:00Z"),
        ("0 0 1 * 0", "2026-03-05T00:00:00Z", "2026-03-01T00:00:00Z", "2026-03-08T00:00:00Z"),  // day 1 OR Sunday
        ("0 12 * * 7", "2026-03-04T00:00:00Z", "2026-03-01T12:00:00Z", "2026-03-08T12:00:00Z"),  // 7 is Sunday
        ("5,10 0 1 1,7 *", "2026-07-01T00:07:00Z", "2026-07-01T00:05:00Z", "2026-07-01T00:10:00Z"),
    ])
    func previousAndNext(_ schedule: String, _ now: String, _ previous: String, _ next: String) throws {
        let cron = try CronExpression(parsing: schedule)
        #expect(cron.previous(atOrBefore: d(now)) == d(previous))
        #expect(cron.next(after: d(now)) == d(next))
    }

    @Test(arguments: ["", "@fortnightly", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *",
                      "* * * * 8", "*/0 * * * *", "5-1 * * * *", "0 0 31 2 *", "a * * * *"])
    func rejects(_ text: String) {
        #expect(throws: CronExpression.ParseError.self) { try CronExpression(parsing: text) }
        #expect(Schedule.problem(in: text) != nil)
    }

    @Test func periodsAcrossAYear() throws {
        let cron = try CronExpression(parsing: "@monthly")
        let periods = cron.periods(overlapping: d("2026-01-15T00:00:00Z")..<d("2026-04-15T00:00:00Z"),
                                   endedBy: d("2026-04-20T00:00:00Z"), limit: 100)
        #expect(periods.map(\.lowerBound) == ["2026-01-01", "2026-02-01", "2026-03-01"].map { d($0 + "T00:00:00Z") })
        #expect(periods.last?.upperBound == d("2026-04-01T00:00:00Z"))
    }
}
