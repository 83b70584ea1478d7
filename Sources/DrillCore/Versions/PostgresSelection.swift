import Foundation

/// Chooses, per drill, the PostgreSQL that restores its backup (pure: the inventory is found elsewhere).
///
/// - Physical backups need the backup's major; among several installations of it, the newest minor.
/// - Dumps need a major at least as new as `pg_dump`'s; the oldest such major is chosen (the closest to the server
///   that was dumped), newest minor first.
/// - When the backup's version is unknown, the first installation in the inventory's order (as before versions were
///   chosen).
public enum PostgresSelection {
    public static func choose(_ need: VersionNeed?, in inventory: PostgresInventory, needsServer: Bool) -> PostgresInstallation? {
        let usable = inventory.installations.filter { !needsServer || $0.hasServer }
        guard let need else { return usable.first }
        let fitting = usable.filter { need.accepts($0.version) }
        guard let lowestMajor = fitting.map(\.version.major).min() else { return nil }
        return fitting.filter { $0.version.major == lowestMajor }.max { $0.version < $1.version }
    }

    /// The error of a drill that no installed PostgreSQL can restore: names the backup's version and the versions
    /// found, before anything is provisioned.
    public static func noneFits(_ need: VersionNeed?, in inventory: PostgresInventory, needsServer: Bool) -> DrillError {
        let found = inventory.installations.filter { !needsServer || $0.hasServer }
        let foundText = found.isEmpty ? "none" : found.map(\.label).joined(separator: ", ")
        let unusable = inventory.unusable.map { "; \($0) holds no initdb and postgres" }.joined()
        guard let need else {
            return DrillError(.noPostgres,
                              "no PostgreSQL \(needsServer ? "server binaries" : "client tools") found (looked at \(inventory.searched))\(unusable); install the postgresql package")
        }
        let hint = need.rule == .sameMajor
            ? "install PostgreSQL \(need.version.major) (e.g. postgresql-\(need.version.major)) or name its bin folder in restore.postgres"
            : "install PostgreSQL \(need.version.major) or newer, or name its bin folder in restore.postgres"
        return DrillError(.noPostgres,
                          "the backup needs \(need.description), but the PostgreSQL versions found are: \(foundText) (looked at \(inventory.searched))\(unusable); \(hint)")
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

    public init(need: VersionNeed?, chosen: PostgresInstallation, inventory: PostgresInventory) {
        backupVersion = need?.version
        backupVersionSource = need?.source
        rule = need?.rule
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
