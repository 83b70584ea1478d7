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

    static func archive(_ location: String) -> ReportArchive {
        ReportArchive(storage: LocalArchiveStorage(root: location))
    }
}
