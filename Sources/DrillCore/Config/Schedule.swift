/// Schedule expressions of a tier: `@monthly`, `@weekly`, `@daily`, or a 5-field cron expression in UTC.
/// Evaluated by `CronExpression`; what "due" means is defined in `DueDrills.swift` and `docs/operations.md`.
public enum Schedule {
    /// A description of what is wrong with `text`, or nil when it is a valid schedule.
    public static func problem(in text: String) -> String? {
        do {
            _ = try CronExpression(parsing: text)
            return nil
        } catch {
            return "\(error)"
        }
    }
}
