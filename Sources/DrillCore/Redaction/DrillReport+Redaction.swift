extension DrillReport {
    /// The report with every URL in its free-text fields redacted (`URLRedaction`): the backup's URI, the WAL
    /// location, the findings, the checks' errors, the restore tool's stderr and the scratch detail. The checks'
    /// observed values are data from the restored database and are left as they are.
    ///
    /// `drill run` applies it to every report before it is printed, archived, alerted or rendered, as a last line
    /// behind the stores and the runner, which redact where they build a message.
    public func redactingURLs() -> DrillReport {
        var r = self
        r.backup.uri = r.backup.uri.map(URLRedaction.redactURLs(in:))
        if let location = r.wal?.location { r.wal?.location = URLRedaction.redactURLs(in: location) }
        r.findings = r.findings.map(URLRedaction.redactURLs(in:))
        for i in r.checks.indices { r.checks[i].error = r.checks[i].error.map(URLRedaction.redactURLs(in:)) }
        r.restore.stderr = r.restore.stderr.map(URLRedaction.redactURLs(in:))
        r.scratch.detail = r.scratch.detail.map(URLRedaction.redactURLs(in:))
        return r
    }
}

extension DrillError {
    /// The error with every URL in its message redacted (`URLRedaction`).
    public func redactingURLs() -> DrillError { DrillError(code, URLRedaction.redactURLs(in: message)) }
}
