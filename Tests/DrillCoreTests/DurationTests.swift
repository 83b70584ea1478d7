import DrillCore
import Testing

@Suite("Durations")
struct DurationTests {
    @Test(arguments: [("90s", 90), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("2d", 172_800), ("1d2h3m4s", 93_784), ("0s", 0)])
    func parses(text: String, seconds: Int64) {
        #expect(DrillDuration(parsing: text)?.seconds == seconds)
    }

    @Test(arguments: ["", "5", "m", "1.5h", "5 m", "1m1h", "1h1h", "-5m", "1w", "h1"])
    func rejects(text: String) {
        #expect(DrillDuration(parsing: text) == nil)
    }

    @Test func canonicalText() {
        #expect(DrillDuration(seconds: 5400).description == "1h30m")
        #expect(DrillDuration(seconds: 0).description == "0s")
        #expect(formatSeconds(0.4242) == "0.42s")
        #expect(formatSeconds(3723) == "1h 2m 3s")
    }
}
