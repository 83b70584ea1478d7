import DrillCore
import DrillLive
import Foundation
import Logging

/// The composition root: the one place where the executable chooses its live implementations.
enum LiveWiring {
    static func dependencies(logger: Logger) async -> DrillDependencies {
        await LiveDependencies.make(scratchRoot: LiveDependencies.defaultScratchRoot(), drillVersion: DrillCommand.version,
                                    logger: logger)
    }

    /// The archive at `location`: a local folder or `s3://bucket/prefix/` (see `ArchiveLocation`).
    static func archive(_ location: String, logger: Logger = Logger(label: "drill.archive")) throws -> ReportArchive {
        ReportArchive(storage: try ArchiveLocation.storage(for: location, logger: logger))
    }
}
