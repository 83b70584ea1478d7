import Foundation

/// JUnit XML for CI dashboards: one `<testsuite>` per drill, one `<testcase>` per check (and, for replica drills, per
/// standby, slot and subscription), plus the RTO and RPO targets; a drill that failed or was aborted adds a `restore`
/// case with an `<error>` carrying its findings.
public enum JUnitReport {
    public static func render(_ reports: [DrillReport]) -> String {
        var suites: [String] = []
        var totals = (tests: 0, failures: 0, errors: 0, time: 0.0)
        for r in reports {
            var cases: [String] = []
            var failures = 0, errors = 0, skipped = 0
            let cls = "drill.\(r.tier).\(r.drill)"
            if r.status == .failed || r.status == .aborted {
                errors += 1
                let message = r.findings.first ?? MarkdownReport.verdict(r.status)
                cases.append(testcase(cls, "restore", r.finishedAt.timeIntervalSince(r.startedAt),
                                      "<error type=\"\(r.status.rawValue)\" message=\"\(XML.escape(message))\">\(XML.escape(r.findings.joined(separator: "\n")))</error>"))
            }
            for c in r.checks {
                var body: String?
                if !c.passed {
                    failures += 1
                    var message = c.error ?? "expected \(c.expected), observed \(c.observed ?? "nothing")"
                    if c.expectation != nil, let o = c.observed, c.error != nil { message += " (\(o))" }
                    if let sample = c.unexpectedSample { message += "; unexpected values: \(sample)" }
                    body = "<failure type=\"check\" message=\"\(XML.escape(message))\">\(XML.escape(c.sql))</failure>"
                }
                if c.skipped == true {
                    skipped += 1
                    body = "<skipped message=\"\(XML.escape(c.error ?? "skipped"))\"/>"
                }
                cases.append(testcase(cls, "check: \(c.name)", c.seconds, body))
            }
            for part in r.restored ? r.replica.map(replicaParts) ?? [] : [] {
                var body: String?
                if !part.problems.isEmpty {
                    failures += 1
                    body = "<failure type=\"replica\" message=\"\(XML.escape(part.problems.joined(separator: "; ")))\"/>"
                }
                cases.append(testcase(cls, part.name, part.seconds ?? 0, body))
            }
            for (name, measured, target) in [("RTO", r.measured.rtoSeconds, r.target.rtoSeconds), ("RPO", r.measured.rpoSeconds, r.target.rpoSeconds)] {
                var body: String?
                if measured.map({ $0 > Double(target) }) ?? true {
                    failures += 1
                    let text = measured.map { "\(name) \(formatSeconds($0)) is over the target \(DrillDuration(seconds: target))" }
                        ?? "\(name) was not measured (target \(DrillDuration(seconds: target)))"
                    body = "<failure type=\"target\" message=\"\(XML.escape(text))\"/>"
                }
                cases.append(testcase(cls, "\(name) within \(DrillDuration(seconds: target))", measured ?? 0, body))
            }
            let time = r.finishedAt.timeIntervalSince(r.startedAt)
            totals = (totals.tests + cases.count, totals.failures + failures, totals.errors + errors, totals.time + time)
            suites.append("""
                  <testsuite name="\(XML.escape(r.drill))" tests="\(cases.count)" failures="\(failures)" errors="\(errors)" skipped="\(skipped)" time="\(seconds(time))" timestamp="\(timestamp(r.startedAt))" hostname="\(XML.escape(r.environment.host))">
                    <properties>
                      <property name="tier" value="\(XML.escape(r.tier))"/>
                      <property name="status" value="\(r.status.rawValue)"/>
                    </properties>
                \(cases.joined(separator: "\n"))
                  </testsuite>
                """)
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuites name="drill" tests="\(totals.tests)" failures="\(totals.failures)" errors="\(totals.errors)" time="\(seconds(totals.time))">
            \(suites.joined(separator: "\n"))
            </testsuites>

            """
    }

    /// Replica drills: one case per standby, slot and subscription, failed when it has a problem.
    static func replicaParts(_ e: ReplicaEvidence) -> [(name: String, seconds: Double?, problems: [String])] {
        e.standbys.map { ("standby: \($0.name)", $0.rpoSeconds, $0.problems) }
            + e.slots.map { ("slot: \($0.name)", nil, $0.problems) }
            + e.subscriptions.map { ("subscription: \($0.name)", $0.timeLagSeconds, $0.problems) }
    }

    static func testcase(_ cls: String, _ name: String, _ time: Double, _ body: String?) -> String {
        let open = "    <testcase classname=\"\(XML.escape(cls))\" name=\"\(XML.escape(name))\" time=\"\(seconds(time))\""
        guard let body else { return open + "/>" }
        return open + ">\n      \(body)\n    </testcase>"
    }

    static func seconds(_ t: Double) -> String { String(format: "%.3f", max(0, t)) }

    /// JUnit's timestamp: ISO 8601 without a zone (UTC).
    static func timestamp(_ d: Date) -> String { String(RFC3339.format(d).dropLast()) }
}

/// Escaping for XML and HTML text and attribute values.
public enum XML {
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                // Control characters other than tab, newline and carriage return are not allowed in XML 1.0.
                if ch.value < 0x20 && ch != "\t" && ch != "\n" && ch != "\r" { out += "\u{FFFD}" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }
}
