/// `--shard I/N`: the drills whose stable hash falls in shard I of N, so that N workers on N machines split a fleet
/// with no coordinator. The hash is FNV-1a (64 bit) of the drill's name: the same on every machine and every run, and
/// independent of the order or number of drill files (adding a drill moves no other drill to another shard).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    /// 0-based: the shards of 4 are 0/4 … 3/4 (Kubernetes' JOB_COMPLETION_INDEX).
    public var index: Int
    public var count: Int

    public init?(index: Int, count: Int) {
        guard count >= 1, index >= 0, index < count else { return nil }
        self.index = index
        self.count = count
    }

    /// Parses `I/N`.
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    public func contains(_ drill: String) -> Bool { Int(Self.hash(drill) % UInt64(count)) == index }

    public static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }
}
