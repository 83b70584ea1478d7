import DrillCore
import DrillLive
import Foundation
import Synchronization

/// A PostgreSQL the tests need besides Debian's 15 (`PostgreSQL18`, `PostgreSQL17`), located once per test process:
/// the bin folder in its variable (`DRILL_TEST_PG18_BIN`), else where `scripts/install-deps.sh --test` put it. A
/// missing one is an error that says how to install it: the tests that need it fail, they never skip.
final class TestPostgres: Sendable {
    let variable: String
    private let locate: @Sendable ([String: String]) throws -> PostgresBinaries
    private let found = Mutex<PostgresBinaries?>(nil)

    init(variable: String, locate: @escaping @Sendable ([String: String]) throws -> PostgresBinaries) {
        self.variable = variable
        self.locate = locate
    }

    func binaries(environment: [String: String]) throws -> PostgresBinaries {
        try found.withLock { cached in
            if let cached { return cached }
            let b = try named(environment) ?? locate(environment)
            cached = b
            return b
        }
    }

    private func named(_ env: [String: String]) throws -> PostgresBinaries? {
        guard let bin = env[variable], !bin.isEmpty else { return nil }
        let b = PostgresBinaries(directory: bin)
        guard b.has("initdb"), b.has("postgres") else { throw DrillError(.noPostgres, "\(variable)=\(bin) holds no initdb and postgres") }
        return b
    }
}
