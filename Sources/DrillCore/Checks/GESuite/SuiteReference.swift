/// An entry of a drill file's `expectations`: a Great Expectations suite file and the table it validates.
public struct SuiteReference: Sendable, Equatable {
    /// The suite file as written (relative to the config folder unless absolute).
    public var path: String
    public var table: TableName
    /// `"unsupported": "skip"`: a type drill does not support is recorded as skipped instead of failing validation.
    public var skipUnsupported: Bool

    public init(path: String, table: TableName, skipUnsupported: Bool = false) {
        self.path = path
        self.table = table
        self.skipUnsupported = skipUnsupported
    }

    /// Parses the drill file's `expectations` array.
    public static func parseAll(_ v: JSONValue?, reader r: ConfigReader) -> [SuiteReference] {
        guard let v else { return [] }
        guard case .array(let items) = v else {
            r.fail("expectations", "expected an array, found \(v.typeName)")
            return []
        }
        return items.enumerated().compactMap { i, item in
            let path = "expectations[\(i)]"
            guard let o = r.object(item, at: path, allowed: ["suite", "table", "unsupported"]) else { return nil }
            let suite = r.string(o["suite"], at: path + ".suite", required: true)
            let tableText = r.string(o["table"], at: path + ".table", required: true)
            let table = tableText.flatMap(TableName.init(parsing:))
            if let tableText, table == nil { r.fail(path + ".table", "expected table or schema.table, found \"\(tableText)\"") }
            var skip = false
            if let u = r.string(o["unsupported"], at: path + ".unsupported") {
                if u == "skip" { skip = true } else if u != "fail" {
                    r.fail(path + ".unsupported", "\"\(u)\" is not one of: fail, skip")
                }
            }
            guard let suite, let table else { return nil }
            return SuiteReference(path: suite, table: table, skipUnsupported: skip)
        }
    }
}
