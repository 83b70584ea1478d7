import DrillCore
import Foundation

extension EmbeddedCluster {
    /// `Bytes per WAL segment` of the restored data folder, from `pg_controldata` (shared by the physical methods).
    func walSegmentSize() async throws -> UInt64 {
        let r = await ChildProcess.runCancellable(ProcessSpec(executable: binaries.tool("pg_controldata"),
                                                              arguments: [dataDirectory], environment: ["LC_ALL": "C"],
                                                              unsetEnvironment: ["PG*"]))
        try Task.checkCancellation()
        guard r.succeeded else {
            throw DrillError(.backupCorrupt, "pg_controldata cannot read the restored global/pg_control (\(r.summary)): \(lastError(r.stderr))")
        }
        for line in r.stdout.split(separator: "\n") where line.hasPrefix("Bytes per WAL segment:") {
            if let v = UInt64(line.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)), v > 0 { return v }
        }
        return WALSegment.defaultSize
    }
}
