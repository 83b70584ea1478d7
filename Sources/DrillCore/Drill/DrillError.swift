/// Errors that stop a drill (as opposed to findings, which are recorded and let it go on).
///
/// Descriptions never contain a password, a key or a URL with credentials.
public struct DrillError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: String, Sendable {
        case backupNotFound = "backup_not_found"
        case backupUnreadable = "backup_unreadable"
        case backupCorrupt = "backup_corrupt"
        case digestMismatch = "digest_mismatch"
        case storeDenied = "store_denied"
        case storeUnavailable = "store_unavailable"
        case noPostgres = "no_postgres"
        case provisionFailed = "provision_failed"
        case databaseExists = "database_exists"
        case restoreFailed = "restore_failed"
        case connectionFailed = "connection_failed"
        case configuration = "configuration"
        case unsupported = "unsupported"
        case walGap = "wal_gap"
        case recoveryFailed = "recovery_failed"
        /// The host has not enough free disk or memory for the drill (it was not started).
        case insufficientResources = "insufficient_resources"
        /// A role lacks a privilege the drill needs (the message names the GRANT).
        case permissionDenied = "permission_denied"
        /// An encrypted backup could not be decrypted with the configured key (or no key was configured).
        case decryptionFailed = "decryption_failed"
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// Exit codes of the `drill` command. When several apply, the highest in the order 2 > 130 > 3 > 1 > 0 wins.
public enum ExitCode: Int32, Sendable, CaseIterable {
    case compliant = 0
    case nonCompliant = 1
    case usage = 2
    case failed = 3
    case interrupted = 130

    var precedence: Int {
        switch self {
        case .compliant: 0
        case .nonCompliant: 1
        case .failed: 2
        case .interrupted: 3
        case .usage: 4
        }
    }

    public init(_ status: DrillStatus) {
        switch status {
        case .compliant: self = .compliant
        case .nonCompliant: self = .nonCompliant
        case .failed: self = .failed
        case .aborted: self = .interrupted
        }
    }

    /// The exit code of one drill's report: a drill stopped by a configuration problem found only at run time (such as
    /// a recovery target before the backup's end) exits 2, like any other configuration error.
    public init(_ report: DrillReport) {
        if report.status == .failed, report.failureCode == DrillError.Code.configuration.rawValue {
            self = .usage
        } else {
            self.init(report.status)
        }
    }

    /// The code that wins among several outcomes.
    public static func combine(_ codes: [ExitCode]) -> ExitCode {
        codes.max { $0.precedence < $1.precedence } ?? .compliant
    }
}
