import Foundation

/// Prometheus text exposition of the archive's latest state, for node_exporter's textfile collector: one series per
/// drill (labelled `drill` and `tier`), taken from the drill's most recent report, so every drill in the archive
/// appears, not only the ones of the current run.
public enum PrometheusMetrics {
    struct Family {
        var name: String
        var help: String
        var samples: [(labels: [(String, String)], value: Double)] = []
    }

    public static func render(reports: [DrillReport]) -> String {
        var latest: [String: DrillReport] = [:]
        var lastSuccess: [String: Date] = [:]
        for r in reports {
            if latest[r.drill].map({ r.startedAt >= $0.startedAt }) ?? true { latest[r.drill] = r }
            if r.status == .compliant, lastSuccess[r.drill].map({ r.finishedAt > $0 }) ?? true { lastSuccess[r.drill] = r.finishedAt }
        }
        var families = [
            Family(name: "drill_last_run_timestamp_seconds", help: "Unix time the most recent run of the drill finished."),
            Family(name: "drill_last_success_timestamp_seconds", help: "Unix time the most recent compliant run of the drill finished."),
            Family(name: "drill_rto_seconds", help: "Recovery time measured by the most recent run (absent when the database never became usable)."),
            Family(name: "drill_rpo_seconds", help: "Recovery point age measured by the most recent run (absent when unknown)."),
            Family(name: "drill_rto_target_seconds", help: "Recovery time objective of the drill's tier."),
            Family(name: "drill_rpo_target_seconds", help: "Recovery point objective of the drill's tier."),
            Family(name: "drill_compliant", help: "1 when the most recent run was compliant, else 0."),
            Family(name: "drill_phase_seconds", help: "Duration of each phase of the most recent run."),
            Family(name: "drill_replication_lag_seconds", help: "Replica drills: each standby's measured RPO in the most recent run (receive latency, or the heartbeat age as an upper bound; +Inf when neither was measured)."),
            Family(name: "drill_replication_lag_bytes", help: "Replica drills: WAL the standby had not received at the probe (the primary's flush position minus the standby's receive position)."),
        ]
        for drill in latest.keys.sorted() {
            let r = latest[drill]!
            let labels = [("drill", r.drill), ("tier", r.tier)]
            families[0].samples.append((labels, r.finishedAt.timeIntervalSince1970))
            if let s = lastSuccess[drill] { families[1].samples.append((labels, s.timeIntervalSince1970)) }
            if let v = r.measured.rtoSeconds { families[2].samples.append((labels, v)) }
            if let v = r.measured.rpoSeconds { families[3].samples.append((labels, v)) }
            families[4].samples.append((labels, Double(r.target.rtoSeconds)))
            families[5].samples.append((labels, Double(r.target.rpoSeconds)))
            families[6].samples.append((labels, r.status == .compliant ? 1 : 0))
            var seen = Set<String>()
            for p in r.phases where seen.insert(p.name).inserted {
                families[7].samples.append((labels + [("phase", p.name)], p.seconds))
            }
            for s in r.replica?.standbys ?? [] {
                families[8].samples.append((labels + [("standby", s.name)], s.rpoSeconds ?? .infinity))
                if let gap = s.byteGap { families[9].samples.append((labels + [("standby", s.name)], Double(gap))) }
            }
        }
        var out = ""
        for f in families where !f.samples.isEmpty {
            out += "# HELP \(f.name) \(escapeHelp(f.help))\n# TYPE \(f.name) gauge\n"
            for s in f.samples {
                let labels = s.labels.map { "\($0.0)=\"\(escapeLabel($0.1))\"" }.joined(separator: ",")
                out += "\(f.name){\(labels)} \(format(s.value))\n"
            }
        }
        return out
    }

    static func escapeLabel(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func escapeHelp(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(format: "%.3f", v)
    }
}
