import DrillCore
import Foundation

/// The barman-cloud command lines a `barman-cloud` drill runs (pure, tested). barman-cli-cloud 3.4, AWS S3.
public enum BarmanCloudInvocation {
    /// `--endpoint-url` from the drill file, else `AWS_ENDPOINT_URL` (boto3 1.26 does not read that variable itself).
    static func endpoint(_ s: BarmanCloudSettings, environment: [String: String]) -> [String] {
        guard let e = s.endpoint ?? environment["AWS_ENDPOINT_URL"].flatMap({ $0.isEmpty ? nil : $0 }) else { return [] }
        return ["--endpoint-url", e]
    }

    public static func listBackups(_ s: BarmanCloudSettings, environment: [String: String] = [:]) -> [String] {
        ["--format", "json"] + endpoint(s, environment: environment) + [s.location, s.server]
    }

    public static func restore(_ s: BarmanCloudSettings, id: String, destination: String, environment: [String: String] = [:]) -> [String] {
        endpoint(s, environment: environment) + [s.location, s.server, id, destination]
    }

    public static func walRestore(_ s: BarmanCloudSettings, walName: String, destination: String,
                                  environment: [String: String] = [:]) -> [String] {
        endpoint(s, environment: environment) + [s.location, s.server, walName, destination]
    }

    /// What the tools get besides drill's environment (which holds the AWS credentials they read, as boto3 does):
    /// the region, when the drill file names one. drill's PostgreSQL variables are not passed on.
    public static func environment(_ s: BarmanCloudSettings) -> (set: [String: String], unset: [String]) {
        var set: [String: String] = ["LC_ALL": "C.UTF-8"]
        if let r = s.region { set["AWS_DEFAULT_REGION"] = r; set["AWS_REGION"] = r }
        return (set, ["PG*"])
    }

    /// What a failed barman-cloud command means, from its `ERROR:` lines (boto's messages name the operation and the
    /// HTTP status, never a secret).
    public static func failure(_ tool: String, _ s: BarmanCloudSettings, exitCode: Int32?, stderr: String,
                               credentials: String?) -> DrillError {
        let errors = BarmanCloudJSON.errorLines(stderr)
        let text = errors.isEmpty ? (stderr.split(whereSeparator: \.isNewline).last.map(String.init) ?? "no output") : errors.joined(separator: "; ")
        let where_ = "\(s.location) (server \(s.server))"
        let creds = credentials.map { " (\($0))" } ?? ""
        let denied = ["(403)", "Forbidden", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken"]
        if denied.contains(where: text.contains) {
            return DrillError(.storeDenied, "\(tool) was denied access to \(where_): \(text). Check the AWS credentials\(creds).")
        }
        if text.contains("Unable to locate credentials") || text.contains("NoCredentialsError") {
            return DrillError(.storeDenied, "\(tool) found no AWS credentials for \(where_): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE with ~/.aws/credentials")
        }
        if text.contains("does not exist") || text.contains("NoSuchBucket") || text.contains("(404)") {
            return DrillError(.backupNotFound, "\(tool): \(text)")
        }
        if text.contains("Unknown backup") {
            return DrillError(.backupNotFound, "\(tool): \(text)")
        }
        if text.contains("Could not connect") || text.contains("EndpointConnectionError") || text.contains("Connection refused")
            || text.contains("timed out") {
            return DrillError(.storeUnavailable, "\(tool) cannot reach the store for \(where_): \(text)")
        }
        return DrillError(.backupUnreadable, "\(tool) failed on \(where_) (exit status \(exitCode.map(String.init) ?? "?")): \(text)")
    }
}
