extension MarkdownReport {
    /// Evidence rows of a replica drill: each standby's figures, each slot and subscription, the clone's RTO parts.
    static func replicaRows(_ e: ReplicaEvidence) -> String {
        func s(_ x: Double?) -> String { x.map(formatSeconds) ?? "—" }
        var md = "| Primary | \(escape(e.primary.url)) (timeline \(e.primary.timeline.map(String.init) ?? "?"), flush \(e.primary.flushLsn?.description ?? "?")) |\n"
        md += "| Probe | waited at most \(formatSeconds(e.probe.waitSeconds)), polled every \(formatSeconds(e.probe.pollIntervalSeconds)) |\n"
        for st in e.standbys {
            var line = "\(st.present ? (st.state ?? "?") : "**absent from pg_stat_replication**")"
            line += ", received in \(st.receiveLatencySeconds.map(formatSeconds) ?? "**—**") (\(st.byteGap.map { "\($0) bytes behind" } ?? "gap unknown"))"
            line += ", replayed in \(s(st.replayLatencySeconds)), backlog \(st.replayBacklogBytes.map { "\($0) bytes" } ?? "—")"
            if let hb = st.heartbeat, let age = hb.ageSeconds {
                line += ", heartbeat \(formatSeconds(age)) old (±\(s(hb.resolutionSeconds)))"
            }
            if let p = st.replayPauseState, p != "not paused" { line += ", **replay \(p)**" }
            md += "| Standby \(escape(st.name)) | \(escape(line)) |\n"
        }
        for sl in e.slots {
            let line = sl.present
                ? "\(sl.type ?? "?"), \(sl.active == true ? "active" : "**inactive**"), \(sl.walStatus ?? "?"), retains \(sl.retainedBytesEnd.map { "\($0) bytes" } ?? "—")"
                : "**missing**"
            md += "| Slot \(escape(sl.name)) | \(escape(line)) |\n"
        }
        for sub in e.subscriptions {
            let line = sub.present
                ? "\(sub.workerPid == nil ? "**no apply worker**" : "applying"), lag \(sub.confirmedLagBytes.map { "\($0) bytes" } ?? "—"), \(sub.timeLagSeconds.map(formatSeconds) ?? sub.timeLagSource)"
                : "**missing**"
            md += "| Subscription \(escape(sub.name)) | \(escape(line)) |\n"
        }
        if let c = e.clone {
            md += "| Clone of \(escape(c.from)) | detection \(formatSeconds(c.detectionSeconds)) + promotion \(s(c.promotionSeconds)) + replay \(s(c.replaySeconds)) = RTO \(s(c.rtoSeconds)) |\n"
        }
        return md
    }
}
