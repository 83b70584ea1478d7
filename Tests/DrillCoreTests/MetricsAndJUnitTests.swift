import DrillCore
import DrillTesting
import Foundation
import Testing

@Suite("Metrics and JUnit")
struct MetricsAndJUnitTests {
    let d = ReportFixtures.date

    @Test func metricsComeFromTheLatestRunOfEveryDrill() {
        let reports = [
            ReportFixtures.report(drill: "shop", status: .compliant, startedAt: d("2026-01-01T00:00:00Z"), rto: 100),
            ReportFixtures.report(drill: "shop", status: .nonCompliant, startedAt: d("2026-02-01T00:00:00Z"), rto: 1_000),
            ReportFixtures.report(drill: "wiki\"x", tier: "silver", status: .failed, startedAt: d("2026-02-03T00:00:00Z"), rto: nil, rpo: nil),
        ]
        let text = PrometheusMetrics.render(reports: reports)
        #expect(text.contains("drill_rto_seconds{drill=\"shop\",tier=\"gold\"} 1000\n"))
        #expect(text.contains("drill_compliant{drill=\"shop\",tier=\"gold\"} 0\n"))
        #expect(text.contains("drill_last_success_timestamp_seconds{drill=\"shop\",tier=\"gold\"} \(Int(d("2026-01-01T00:02:00Z").timeIntervalSince1970))\n"))
        #expect(text.contains("drill_last_run_timestamp_seconds{drill=\"wiki\\\"x\",tier=\"silver\"}"))
        #expect(!text.contains("drill_rto_seconds{drill=\"wiki"))  // not measured: no sample
        #expect(text.contains("drill_phase_seconds{drill=\"shop\",tier=\"gold\",phase=\"restore\"} 990\n"))
        #expect(text.contains("# TYPE drill_rto_target_seconds gauge\n"))
    }

    @Test func junitHasACasePerCheckAndTarget() {
        let r = ReportFixtures.report(drill: "shop", status: .nonCompliant, rto: 2_000, rpo: 10,
                                      checks: [ReportFixtures.check("a<b", passed: true), ReportFixtures.check("c & d", passed: false)])
        let failed = ReportFixtures.report(drill: "wiki", status: .failed, rto: nil, rpo: nil, findings: ["backup <missing>"])
        let xml = JUnitReport.render([r, failed])
        #expect(xml.contains("<testsuite name=\"shop\" tests=\"4\" failures=\"2\" errors=\"0\""))
        #expect(xml.contains("name=\"check: a&lt;b\""))
        #expect(xml.contains("name=\"check: c &amp; d\""))
        #expect(xml.contains("name=\"RTO within 15m\""))
        #expect(xml.contains("<testsuite name=\"wiki\" tests=\"3\" failures=\"2\" errors=\"1\""))
        #expect(xml.contains("message=\"backup &lt;missing&gt;\""))
        #expect(xml.contains("<testsuites name=\"drill\" tests=\"7\" failures=\"4\" errors=\"1\""))
    }
}
