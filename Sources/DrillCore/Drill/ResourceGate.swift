import Foundation
import Synchronization

/// What one drill is expected to need on this host: disk under the scratch root and memory.
public struct ResourceNeed: Sendable, Equatable {
    public var diskBytes: Int64
    public var memoryBytes: Int64

    public init(diskBytes: Int64, memoryBytes: Int64) {
        self.diskBytes = diskBytes
        self.memoryBytes = memoryBytes
    }

    /// A deliberately generous estimate from the restore point: the staged copy (when the backup is not already on
    /// local disk) plus the restored cluster, which is several times a compressed dump; memory for shared buffers,
    /// the restore's sorts (`maintenance_work_mem` per job) and the tools.
    public static func estimate(point: RestorePoint, staged: Bool, jobs: Int, hostMemoryBytes: UInt64) -> ResourceNeed {
        let size = max(0, point.sizeBytes ?? 0)
        let expansion: Int64 = switch point.format {
        case "plain": 2
        case "tar", "basebackup": 2
        case let f where f.hasPrefix("pgbackrest "): 2  // `pgbackrest info`'s size is the restored size; room for the WAL
        default: 5  // custom (compressed), directory (compressed), plain.gz, tool catalogues' compressed sizes
        }
        let disk = size * expansion + (staged ? size : 0) + 64 << 20
        let maintenance = Int64(max(64, min(1024, hostMemoryBytes / (1 << 20) / UInt64(8 * max(1, jobs))))) << 20
        let memory = (256 << 20) + Int64(max(1, jobs)) * maintenance + (128 << 20)
        return ResourceNeed(diskBytes: disk, memoryBytes: memory)
    }
}

/// What the host has free right now.
public struct HostCapacity: Sendable, Equatable {
    public var freeDiskBytes: Int64
    public var availableMemoryBytes: Int64
    public init(freeDiskBytes: Int64, availableMemoryBytes: Int64) {
        self.freeDiskBytes = freeDiskBytes
        self.availableMemoryBytes = availableMemoryBytes
    }
}

/// Admits drills onto this host one by one against its free disk and memory, less what the drills already admitted
/// reserved: a drill that fits starts, one that would fit once others finish waits, and one that cannot fit even
/// alone fails with a finding instead of filling the disk.
public final class ResourceGate: Sendable {
    public typealias Probe = @Sendable () -> HostCapacity
    private struct State {
        var reserved = ResourceNeed(diskBytes: 0, memoryBytes: 0)
        var running = 0
    }
    private let probe: Probe
    private let state = Mutex(State())
    private let poll: Duration
    /// Where the scratch root is, for messages.
    public let scratchRoot: String

    public init(scratchRoot: String, poll: Duration = .seconds(2), probe: @escaping Probe) {
        self.scratchRoot = scratchRoot
        self.poll = poll
        self.probe = probe
    }

    public enum Decision: Sendable, Equatable {
        case admit
        case wait
        case never(String)
    }

    /// The decision for `need` given the host's capacity and what is reserved (pure, for tests).
    public static func decide(_ need: ResourceNeed, capacity: HostCapacity, reserved: ResourceNeed, running: Int,
                              scratchRoot: String) -> Decision {
        // Admitted drills have not necessarily used their reservation yet: count it against what is free.
        let disk = capacity.freeDiskBytes - reserved.diskBytes
        let memory = capacity.availableMemoryBytes - reserved.memoryBytes
        if need.diskBytes <= disk && need.memoryBytes <= memory { return .admit }
        if running > 0 { return .wait }
        if need.diskBytes > capacity.freeDiskBytes {
            return .never("The drill needs about \(bytes(need.diskBytes)) of disk under \(scratchRoot) (the backup and its restored copy), but only \(bytes(capacity.freeDiskBytes)) is free: it was not started, rather than filling the disk. Free space there or point DRILL_SCRATCH_DIR at a larger disk.")
        }
        return .never("The drill needs about \(bytes(need.memoryBytes)) of memory (shared buffers and \(bytes(need.memoryBytes - (384 << 20))) for the restore's sorts), but only \(bytes(capacity.availableMemoryBytes)) is available: it was not started. Lower restore.jobs or free memory.")
    }

    /// Waits until the drill fits, reserves what it needs and returns the release; throws when it can never fit.
    public func admit(_ need: ResourceNeed) async throws -> @Sendable () -> Void {
        while true {
            try Task.checkCancellation()
            let capacity = probe()
            let decision = state.withLock { s -> Decision in
                let d = Self.decide(need, capacity: capacity, reserved: s.reserved, running: s.running, scratchRoot: scratchRoot)
                if d == .admit {
                    s.reserved.diskBytes += need.diskBytes
                    s.reserved.memoryBytes += need.memoryBytes
                    s.running += 1
                }
                return d
            }
            switch decision {
            case .admit:
                let released = Mutex(false)
                return { [self] in
                    guard released.withLock({ r in defer { r = true }; return !r }) else { return }
                    release(need)
                }
            case .never(let why):
                throw DrillError(.insufficientResources, why)
            case .wait:
                try await Task.sleep(for: poll)
            }
        }
    }

    private func release(_ need: ResourceNeed) {
        state.withLock { s in
            s.reserved.diskBytes -= need.diskBytes
            s.reserved.memoryBytes -= need.memoryBytes
            s.running -= 1
        }
    }

    static func bytes(_ n: Int64) -> String { ProgressEstimate.bytes(n) }
}
