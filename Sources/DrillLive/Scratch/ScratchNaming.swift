import DrillCore
import Foundation

/// Names of scratch databases: `drill_<drill>_<UTC timestamp>_<random>`, at most 63 bytes (PostgreSQL's limit).
public enum ScratchNaming {
    public static func databaseName(drill: String, at date: Date, random: String = randomSuffix()) -> String {
        let safe = String(drill.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(30))
        return "drill_\(safe)_\(RFC3339.compact(date).lowercased())_\(random)"
    }

    public static func randomSuffix() -> String {
        String((0..<6).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! })
    }
}
