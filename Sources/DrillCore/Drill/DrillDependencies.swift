import Foundation
import Logging

/// Everything a drill needs from the outside world, injected. The live set is wired in one place, in the `drill`
/// executable; tests wire their own.
public struct DrillDependencies: Sendable {
    public var stores: any BackupStoreFactory
    /// The restorer for a format, or nil when the format is not restorable by this build.
    public var restorer: @Sendable (BackupFormat) -> (any Restorer)?
    public var provisioner: @Sendable (TargetConfig) -> any ScratchProvisioner
    public var connector: any DatabaseConnector
    /// Wall-clock time, for report timestamps and RPO arithmetic.
    public var now: @Sendable () -> Date
    /// A private folder for staged downloads (created and removed by the drill).
    public var stagingRoot: String
    /// Default for `restore.jobs`.
    public var cores: Int
    public var hostName: String
    public var drillVersion: String
    /// The zone pg_dump archive creation times are read in (pg_dump stores local time without a zone).
    public var archiveTimeZone: TimeZone
    public var logger: Logger
    /// Restores `basebackup` backups (with their WAL archive); nil when this build cannot. Setting it registers the
    /// `basebackup` method.
    public var physicalRestorer: (any PhysicalRestorer)? = nil {
        didSet { methods.register(.basebackup, BaseBackupMethod(restorer: physicalRestorer, postgres: postgres)) }
    }
    /// The installed PostgreSQL versions, from which each drill's is chosen (nil: the restorers' and provisioners'
    /// defaults, as in tests of pure logic). Setting it re-registers the `dump` method and the `basebackup` one.
    public var postgres: (any PostgresCatalog)? = nil {
        didSet {
            methods.register(.dump, DumpMethod(restorer: restorer, provisioner: provisioner, postgres: postgres, decoder: decoder))
            methods.register(.basebackup, BaseBackupMethod(restorer: physicalRestorer, postgres: postgres))
        }
    }
    /// Removes compression and encryption layers of dumps (`encoded` backups); nil when this build cannot. Setting it
    /// registers the `dump` method again with it.
    public var decoder: (any BackupDecoder)? = nil {
        didSet { methods.register(.dump, DumpMethod(restorer: restorer, provisioner: provisioner, postgres: postgres, decoder: decoder)) }
    }
    /// The kinds of drill this build runs: `dump` (from `restorer` and `provisioner`) and `basebackup` (from
    /// `physicalRestorer`) always, and whatever else the composition root registers.
    public var methods: MethodRegistry
    /// Admits drills against this host's free disk and memory (nil: no check, as in tests of pure logic).
    public var resources: ResourceGate? = nil
    /// Removes what dead runs left and records this run's staging folders (nil: no registry, as in unit tests).
    public var janitor: (any RunJanitor)? = nil
    /// A random number in `0..<1`, for `recovery.target: random` (injected so tests can choose the target).
    public var randomUnit: @Sendable () -> Double = { Double.random(in: 0..<1) }

    public init(stores: any BackupStoreFactory, restorer: @escaping @Sendable (BackupFormat) -> (any Restorer)?,
                provisioner: @escaping @Sendable (TargetConfig) -> any ScratchProvisioner, connector: any DatabaseConnector,
                now: @escaping @Sendable () -> Date, stagingRoot: String, cores: Int, hostName: String,
                drillVersion: String, archiveTimeZone: TimeZone, logger: Logger) {
        self.stores = stores
        self.restorer = restorer
        self.provisioner = provisioner
        self.connector = connector
        self.now = now
        self.stagingRoot = stagingRoot
        self.cores = cores
        self.hostName = hostName
        self.drillVersion = drillVersion
        self.archiveTimeZone = archiveTimeZone
        self.logger = logger
        methods = MethodRegistry([
            .dump: DumpMethod(restorer: restorer, provisioner: provisioner),
            .basebackup: BaseBackupMethod(restorer: nil),
        ])
    }

    /// What methods need to find restore points.
    public var methodContext: MethodContext {
        MethodContext(stores: stores, now: now, archiveTimeZone: archiveTimeZone, logger: logger)
    }
}
