/// How many bytes of a backup a restore tool has consumed, from what its processes have read so far (`rchar` of
/// `/proc/<pid>/io`): `pg_restore -j N` reads the file from N worker processes at once, each seeking to the data of its
/// own tables, so no file position tells the progress, but the sum of what every process read does. A process that
/// exited keeps the count it had last; the figure never goes back and never passes the backup's size.
public struct ReadTally: Sendable, Equatable {
    /// The last count seen of each process (pid and start time, so a reused pid is another process).
    private var counts: [ProcessKey: Int64] = [:]
    private var reported: Int64 = 0
    public let total: Int64?

    public struct ProcessKey: Hashable, Sendable {
        public var pid: Int32
        public var startTicks: UInt64
        public init(pid: Int32, startTicks: UInt64) {
            self.pid = pid
            self.startTicks = startTicks
        }
    }

    public init(total: Int64?) { self.total = total }

    /// Records one sample (the processes alive now and what each has read) and returns the bytes consumed.
    public mutating func record(_ sample: [ProcessKey: Int64]) -> Int64 {
        for (key, bytes) in sample { counts[key] = max(counts[key] ?? 0, bytes) }
        var sum = counts.values.reduce(0, +)
        if let total { sum = min(sum, total) }
        reported = max(reported, sum)
        return reported
    }

    /// Bytes consumed so far.
    public var consumed: Int64 { reported }
}
