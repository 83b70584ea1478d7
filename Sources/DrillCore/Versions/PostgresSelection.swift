import Foundation

/// Chooses, per drill, the PostgreSQL that restores its backup (pure: the inventory is found elsewhere).
///
/// - Physical backups need the backup's major; among several installations of it, the newest minor.
/// - Dumps need a major at least as new as `pg_dump`'s; the oldest such major is chosen (the closest to the server
///   that was dumped), newest minor first. An archive compressed with gzip, lz4 or zstd also needs a build that reads
///   it: an installation known to lack it is never chosen; one whose support is unknown only when none is known to
///   read it (its `pg_restore` then says for itself).
/// - When the backup's version is unknown, the first installation in the inventory's order (as before versions were
///   chosen).
public enum PostgresSelection {
    public static func choose(_ need: VersionNeed?, in inventory: PostgresInventory, needsServer: Bool) -> PostgresInstallation? {
        let usable = inventory.installations.filter { !needsServer || $0.hasServer }
        guard let need else { return usable.first }
        let fitting = usable.filter { shortfall(of: $0, for: need, needsServer: needsServer) == nil }
        let known = fitting.filter { i in need.compressionNeeded.map { i.reads($0) == true } ?? true }
        let pool = known.isEmpty ? fitting : known
        guard let lowestMajor = pool.map(\.version.major).min() else { return nil }
        return pool.filter { $0.version.major == lowestMajor }.max { $0.version < $1.version }
    }

    /// Why `installation` cannot restore a backup that needs `need` (`older than 18`, `built without lz4 (pg_config
    /// --configure)`); nil when it can, or may (its compression support is unknown).
    public static func shortfall(of installation: PostgresInstallation, for need: VersionNeed?, needsServer: Bool) -> String? {
        if needsServer && !installation.hasServer { return "client tools only (no initdb and postgres)" }
        guard let need else { return nil }
        if !need.accepts(installation.version) {
            return need.rule == .sameMajor ? "not PostgreSQL \(need.version.major)" : "older than \(need.version.major)"
        }
        if let c = need.compressionNeeded, installation.reads(c) == false {
            return "built without \(c.library ?? c.rawValue)\(installation.compression.map { " (\($0.source))" } ?? "")"
        }
        return nil
    }

    /// The error of a drill that no installed PostgreSQL can restore: names the backup's version (and compression) and
    /// each installation found with what it lacks, before anything is provisioned.
    public static func noneFits(_ need: VersionNeed?, in inventory: PostgresInventory, needsServer: Bool) -> DrillError {
        let unusable = inventory.unusable.map { "; \($0) holds no initdb and postgres" }.joined()
        guard let need else {
            return DrillError(.noPostgres,
                              "no PostgreSQL \(needsServer ? "server binaries" : "client tools") found (looked at \(inventory.searched))\(unusable); install the postgresql package")
        }
        let found = inventory.installations.map { i in
            shortfall(of: i, for: need, needsServer: needsServer).map { "\(i.label): \($0)" } ?? i.label
        }
        let foundText = found.isEmpty ? "none" : found.joined(separator: "; ")
        let built = need.compressionNeeded.flatMap(\.library).map { " built with \($0)" } ?? ""
        let hint = need.rule == .sameMajor
            ? "install PostgreSQL \(need.version.major) (e.g. postgresql-\(need.version.major)) or name its bin folder in restore.postgres"
            : "install PostgreSQL \(need.version.major) or newer\(built), or name its bin folder in restore.postgres"
        return DrillError(.noPostgres,
                          "the backup needs \(need.description), but the PostgreSQL versions found cannot restore it: \(foundText) (looked at \(inventory.searched))\(unusable); \(hint)")
    }
}

/// Which PostgreSQL restored the drill, and why: the report's `postgres` block.
public struct PostgresChoice: Sendable, Codable, Equatable {
    /// The backup's version (`pg_dump`'s for a dump, the data folder's for a physical backup); nil when unknown.
    public var backupVersion: PostgresVersion?
    /// Where `backupVersion` was read.
    public var backupVersionSource: String?
    /// `same_major` or `at_least`; nil when the backup's version is unknown.
    public var rule: VersionNeed.Rule?
    /// The version used, and its bin folder and how it was found.
    public var version: PostgresVersion
    public var binDirectory: String
    public var origin: String
    /// Every version found (`18.6 (/path)`), in order of preference.
    public var available: [String]
    /// How the archive's data is compressed (`none`, `gzip`, `lz4`, `zstd`), which the chosen `pg_restore` must read;
    /// nil for plain dumps and physical backups.
    public var compression: DumpCompression?
    /// With `compression`: what the chosen installation reads besides uncompressed archives, and how that was learnt;
    /// nil when unknown.
    public var compressionSupport: CompressionSupport?

    public init(need: VersionNeed?, chosen: PostgresInstallation, inventory: PostgresInventory) {
        backupVersion = need?.version
        backupVersionSource = need?.source
        rule = need?.rule
        compression = need?.compression
        compressionSupport = need?.compression == nil ? nil : chosen.compression
        version = chosen.version
        binDirectory = chosen.directory
        origin = chosen.origin
        available = inventory.installations.map(\.label)
    }
}

extension PostgresChoice: MethodEvidence {
    public static var reportKey: WritableKeyPath<DrillReport, PostgresChoice?> { \.postgres }
}

extension MethodRun {
    /// Chooses the PostgreSQL of this drill (before anything is provisioned) and records it in the report; throws
    /// `noPostgres` naming the backup's version and the versions found when none fits. Nil when there is no catalog
    /// (tests of pure logic): the restorers' own defaults apply.
    public func choosePostgres(_ need: VersionNeed?, catalog: (any PostgresCatalog)?, drill: DrillConfig,
                               needsServer: Bool) async throws -> PostgresInstallation? {
        guard let catalog else { return nil }
        let inventory = await catalog.inventory(for: drill)
        guard let chosen = PostgresSelection.choose(need, in: inventory, needsServer: needsServer) else {
            throw PostgresSelection.noneFits(need, in: inventory, needsServer: needsServer)
        }
        evidence(PostgresChoice(need: need, chosen: chosen, inventory: inventory))
        logger.info("PostgreSQL chosen", metadata: ["version": "\(chosen.version)", "bin": "\(chosen.directory)",
                                                    "backup": "\(need?.version.description ?? "unknown")"])
        return chosen
    }
}
