/// Schedule expressions of a tier: `@monthly`, `@weekly`, `@daily`, or a 5-field cron expression in UTC.
public enum Schedule {
    /// A description of what is wrong with `text`, or nil when it is a valid schedule.
    public static func problem(in text: String) -> String? {
        if ["@monthly", "@weekly", "@daily", "@hourly", "@yearly", "@annually"].contains(text) { return nil }
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 5 else {
            return "\"\(text)\" is not @monthly, @weekly, @daily or a 5-field cron expression"
        }
        let allowed = Set("0123456789*/,-")
        for f in fields where !f.allSatisfy({ allowed.contains($0) }) {
            return "cron field \"\(f)\" has characters other than digits, '*', '/', ',' and '-'"
        }
        return nil
    }
}
