import DrillCore
import DrillLive
import Foundation
import Logging

/// The composition root: the one place where the live implementations are chosen and wired together.
enum LiveWiring {
    /// Where private scratch clusters and staged downloads go: `$DRILL_SCRATCH_DIR`, else `$TMPDIR`, else `/tmp`.
    static var scratchRoot: String {
        let env = ProcessInfo.processInfo.environment
        return env["DRILL_SCRATCH_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? env["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    }

    static func dependencies(logger: Logger) async -> DrillDependencies {
        let binaries = await PostgresBinaries.discover() ?? PostgresBinaries(directory: "")
        let now: @Sendable () -> Date = { Date() }
        let root = scratchRoot
        return DrillDependencies(
            stores: StoreRegistry.live(),
            restorer: { format in
                switch format {
                case .custom, .directory, .tar: PgRestoreRestorer(binaries: binaries)
                case .plain, .plainGzip: PsqlRestorer(binaries: binaries)
                case .basebackup: nil
                }
            },
            provisioner: { target in
                switch target {
                case .embedded: EmbeddedProvisioner(scratchRoot: root, now: now, logger: logger)
                case .server(let url): ServerProvisioner(url: url, now: now, logger: logger)
                }
            },
            connector: LibPQConnector(),
            now: now,
            stagingRoot: root,
            cores: ProcessInfo.processInfo.activeProcessorCount,
            hostName: ProcessInfo.processInfo.hostName,
            drillVersion: DrillCommand.version,
            archiveTimeZone: TimeZone.current,
            logger: logger)
    }

    static func archive(_ location: String) -> ReportArchive {
        ReportArchive(storage: LocalArchiveStorage(root: location))
    }
}
