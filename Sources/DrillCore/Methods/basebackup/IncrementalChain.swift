import Foundation

/// A chain of PostgreSQL 17+ incremental base backups: a full backup and the incrementals taken on top of it, each
/// naming its parent by `INCREMENTAL FROM LSN` (the parent's `START WAL LOCATION`) and `INCREMENTAL FROM TLI`. Pure:
/// the backups' labels are read elsewhere.
public struct IncrementalChain: Sendable, Equatable {
    /// One backup folder of the location and its `backup_label`.
    public struct Member: Sendable, Equatable {
        public var name: String
        public var path: String
        public var label: BackupLabel

        public init(name: String, path: String, label: BackupLabel) {
            self.name = name
            self.path = path
            self.label = label
        }

        public var isIncremental: Bool { label.incrementalFromLSN != nil }
    }

    /// Full backup first, `newest` last: the order `pg_combinebackup` takes them in.
    public var members: [Member]

    /// The chain that ends at `newest`, its parents found among `candidates` (the other backup folders of the
    /// location). Throws `backupNotFound` naming the missing link (with its label when `history` knows it: the
    /// `.backup` files of the WAL archive, by start location) when a parent is not there.
    public static func resolve(newest: Member, candidates: [Member], location: String,
                               history: [LSN: String] = [:]) throws -> IncrementalChain {
        var chain = [newest]
        var current = newest
        while let parentLSN = current.label.incrementalFromLSN {
            let tli = current.label.incrementalFromTimeline
            let parents = candidates.filter {
                $0.label.startLSN == parentLSN && (tli == nil || $0.label.startTimeline == nil || $0.label.startTimeline == tli)
                    && !chain.contains($0)
            }
            guard let parent = parents.first else {
                let known = history[parentLSN].map { " (label \"\($0)\" in the WAL archive's backup history)" } ?? ""
                throw DrillError(.backupNotFound,
                                 "the incremental chain is broken: \(current.name) was taken on top of the backup that started at "
                                     + "\(parentLSN)\(tli.map { " on timeline \($0)" } ?? "")\(known), which is not under \(location) "
                                     + "(an incremental backup or its full backup was removed); chain found: "
                                     + ([parentLSN.description + "?"] + chain.reversed().map(\.name)).joined(separator: " → "))
            }
            chain.append(parent)
            current = parent
        }
        return IncrementalChain(members: chain.reversed())
    }

    /// `full → incr1 → incr2`.
    public var description: String { members.map(\.name).joined(separator: " → ") }
}
