import DrillCore
import Foundation

/// The end-of-drill lines on stdout: verdict, measurements against targets, and where the report is.
enum Summary {
    static func print(_ r: DrillReport, reportPath: String?) {
        var s = "\(r.drill) [\(r.tier)]: \(MarkdownReport.verdict(r.status))"
        s += "  RTO \(r.measured.rtoSeconds.map(formatSeconds) ?? "—") (target \(DrillDuration(seconds: r.target.rtoSeconds)))"
        s += "  RPO \(r.measured.rpoSeconds.map(formatSeconds) ?? "—") (target \(DrillDuration(seconds: r.target.rpoSeconds)))"
        if !r.checks.isEmpty { s += "  checks \(r.checks.filter(\.passed).count)/\(r.checks.count)" }
        Console.out(s)
        for f in r.findings { Console.out("  - \(f)") }
        if let reportPath { Console.out("  report: \(reportPath)") }
    }
}
