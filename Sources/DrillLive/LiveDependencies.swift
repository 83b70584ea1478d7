import DrillCore
import Foundation
import Logging

/// The live implementations of every port, wired together. The `drill` executable (the composition root) and the
/// integration tests both build their dependencies here, so tests exercise exactly what users run.
public enum LiveDependencies {
    /// Where private scratch clusters and staged downloads go: `$DRILL_SCRATCH_DIR`, else `$TMPDIR`, else `/tmp`.
    public static func defaultScratchRoot(_ env: [String: String] = ProcessInfo.processInfo.environment) -> String {
        env["DRILL_SCRATCH_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? env["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    }

    public static func make(scratchRoot: String, drillVersion: String, logger: Logger,
                            now: @escaping @Sendable () -> Date = { Date() },
                            stores: StoreRegistry = .live(),
                            serverDatabaseName: (@Sendable (String, Date) -> String)? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment) async -> DrillDependencies {
        let template = InitdbTemplate.fromEnvironment(environment, logger: logger)
        let discovered = await PostgresBinaries.discover()
        let binaries = discovered ?? PostgresBinaries(directory: "")
        var deps = DrillDependencies(
            stores: stores,
            restorer: { format in
                switch format {
                case .custom, .directory, .tar: PgRestoreRestorer(binaries: binaries)
                case .plain, .plainGzip: PsqlRestorer(binaries: binaries)
                case .dumpall: DumpAllRestorer(binaries: binaries)
                case .basebackup, .encoded: nil
                }
            },
            provisioner: { target in
                switch target {
                case .embedded:
                    EmbeddedProvisioner(scratchRoot: scratchRoot, now: now, logger: logger, template: template,
                                        binaries: discovered)
                case .server(let url):
                    if let serverDatabaseName {
                        ServerProvisioner(url: url, now: now, logger: logger, name: serverDatabaseName)
                    } else {
                        ServerProvisioner(url: url, now: now, logger: logger)
                    }
                }
            },
            connector: LibPQConnector(),
            now: now,
            stagingRoot: scratchRoot,
            cores: ProcessInfo.processInfo.activeProcessorCount,
            hostName: ProcessInfo.processInfo.hostName,
            drillVersion: drillVersion,
            archiveTimeZone: TimeZone.current,
            logger: logger)
        deps.decoder = LiveBackupDecoder(logger: logger, environment: environment, scratchRoot: scratchRoot)
        deps.physicalRestorer = BaseBackupRestorer(scratchRoot: scratchRoot, logger: logger)
        let postgres = LivePostgresCatalog(environment: environment)
        deps.postgres = postgres
        deps.resources = HostResources.gate(scratchRoot: scratchRoot, environment: environment)
        deps.methods.register(.barmanCloud, BarmanCloudMethod(tool: LiveBarmanCloud(scratchRoot: scratchRoot, logger: logger, environment: environment),
                                                              postgres: postgres))
        deps.methods.register(.barman, BarmanMethod(tool: LiveBarman(scratchRoot: scratchRoot, logger: logger, environment: environment),
                                                    postgres: postgres))
        deps.methods.register(.pgbackrest, PgBackRestMethod(tool: PgBackRestCLI.discover(environment: environment).map {
            PgBackRestCLI(executable: $0, scratchRoot: scratchRoot, logger: logger, environment: environment) }, postgres: postgres))
        deps.methods.register(.replica, ReplicaMethod(link: LibPQReplicaLink(), cloner: PgBaseBackupCloner(scratchRoot: scratchRoot, logger: logger),
                                                      postgres: postgres))
        deps.janitor = LiveRunJanitor(scratchRoot: scratchRoot, logger: logger)
        return deps
    }
}
