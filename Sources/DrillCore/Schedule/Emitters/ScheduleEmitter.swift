import Foundation

/// What a scheduler target needs to know to run drills: the check cadence, how to call drill, and the fleet.
public struct ScheduleRequest: Sendable {
    /// Minutes between two `drill run --due` checks (see `SchedulerUnits.checkIntervalMinutes`).
    public var minutes: Int
    public var invocation: SchedulerUnits.Invocation
    /// The drills and tiers of the config folder (Airflow runs one task per drill).
    public var drills: [DrillConfig]
    public var tiers: [String: TierConfig]
    /// Kubernetes: the container image, the number of shards (pods) per run, and what a pod asks for.
    public var image: String
    public var shards: Int
    public var resources: PodResources
    /// systemd: the account the service runs as, and the scratch root it may write.
    public var user: String
    public var scratchDirectory: String
    /// Airflow: how often a failed drill task is tried again (each try is its own report in the archive).
    public var retries: Int

    public init(minutes: Int, invocation: SchedulerUnits.Invocation, drills: [DrillConfig] = [], tiers: [String: TierConfig] = [:],
                image: String = "drill:latest", shards: Int = 1, resources: PodResources = PodResources(), user: String = "drill",
                scratchDirectory: String = "/var/tmp/drill", retries: Int = 1) {
        self.retries = retries
        self.minutes = minutes
        self.invocation = invocation
        self.drills = drills
        self.tiers = tiers
        self.image = image
        self.shards = shards
        self.resources = resources
        self.user = user
        self.scratchDirectory = scratchDirectory
    }

    /// The cron expression of the check cadence (UTC).
    var cadenceCron: String { minutes >= 60 ? "0 * * * *" : "*/\(minutes) * * * *" }
    var cadenceWords: String { minutes >= 60 ? "every hour" : "every \(minutes) minutes" }
}

/// What one pod running one drill at a time asks Kubernetes for.
public struct PodResources: Sendable, Equatable {
    public var cpu: String
    public var memory: String
    /// Scratch space for one restored cluster and its staged backup.
    public var scratch: String
    public init(cpu: String = "1", memory: String = "2Gi", scratch: String = "20Gi") {
        self.cpu = cpu
        self.memory = memory
        self.scratch = scratch
    }
}

/// One file a scheduler target consists of.
public struct EmittedFile: Sendable, Equatable {
    /// The file name it is meant to be installed under (`drill-due.service`, `drill_dags.py`, …).
    public var name: String
    public var contents: String
    public init(name: String, contents: String) {
        self.name = name
        self.contents = contents
    }
}

/// Renders the units of one scheduler (cron, systemd, Kubernetes, Airflow). One file per target in this folder,
/// registered in `SchedulerUnits.emitters`.
public protocol ScheduleEmitter: Sendable {
    var kind: SchedulerUnits.Kind { get }
    func emit(_ request: ScheduleRequest) -> [EmittedFile]
}

enum Quote {
    static func shell(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:@".contains($0) } && !s.isEmpty ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    static func yaml(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    /// A Python string literal.
    static func python(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out += u.value < 0x20 ? String(format: "\\x%02x", u.value) : String(u)
            }
        }
        return out + "\""
    }

    /// A systemd unit-file argument: quoted when it has spaces or quotes; `%` and `$` escaped as systemd wants.
    static func systemd(_ s: String) -> String {
        let escaped = s.replacingOccurrences(of: "%", with: "%%").replacingOccurrences(of: "$", with: "$$")
        guard escaped.contains(where: { $0 == " " || $0 == "\"" || $0 == "'" || $0 == "\\" }) else { return escaped }
        return "'" + escaped.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }
}
