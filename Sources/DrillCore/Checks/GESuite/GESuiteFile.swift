/// A Great Expectations suite file as drill reads it: 1.x (`name`, `expectations: [{type, kwargs, meta}]`) or 0.x
/// (`expectation_suite_name`, `expectations: [{expectation_type, kwargs, meta}]`). Keys GE writes that change nothing
/// drill computes (`id`, `meta`, `notes`, `data_asset_type`, `ge_cloud_id`, `rendered_content`, …) are ignored.
public struct GESuiteFile: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var type: String
        public var kwargs: [String: JSONValue]
        /// `meta.name`, when the suite names the check.
        public var name: String?
        /// The entry's key path in the file (`expectations[3]`).
        public var path: String
    }

    public var name: String
    public var entries: [Entry]

    /// Parses a suite; problems go to `reader` (whose file is the suite's).
    public static func parse(_ v: JSONValue, reader r: ConfigReader) -> GESuiteFile? {
        guard let top = r.object(v, at: "", allowed: nil) else { return nil }
        let name: String?
        if top["name"] != nil { name = r.string(top["name"], at: "name") }
        else if top["expectation_suite_name"] != nil { name = r.string(top["expectation_suite_name"], at: "expectation_suite_name") }
        else {
            r.fail("name", "missing required key (a Great Expectations suite has name, or expectation_suite_name in 0.x)")
            name = nil
        }
        guard case .array(let items)? = top["expectations"] else {
            r.fail("expectations", top["expectations"] == nil ? "missing required key" : "expected an array")
            return nil
        }
        var entries: [Entry] = []
        for (i, item) in items.enumerated() {
            let path = "expectations[\(i)]"
            guard let o = r.object(item, at: path, allowed: nil) else { continue }
            let typeKey = o["type"] != nil ? "type" : "expectation_type"
            guard let type = r.string(o[typeKey], at: r.join(path, typeKey), required: true) else { continue }
            var kwargs: [String: JSONValue] = [:]
            if let k = o["kwargs"] {
                guard case .object(let members) = k else {
                    r.fail(path + ".kwargs", "expected an object, found \(k.typeName)")
                    continue
                }
                kwargs = members
            }
            var metaName: String?
            if case .object(let meta)? = o["meta"], case .string(let n)? = meta["name"] { metaName = n }
            entries.append(Entry(type: type, kwargs: kwargs, name: metaName, path: path))
        }
        guard let name else { return nil }
        return GESuiteFile(name: name, entries: entries)
    }

    /// The checks of the suite on `table`: `<suite name>: <type>(<column>)` unless `meta.name` names one (a repeated
    /// name gets ` #2`, ` #3`). A type drill does not support fails validation, or is a skipped check with `skip`.
    public func checks(on table: TableName, skipUnsupported: Bool, reader r: ConfigReader) -> [CheckConfig] {
        var out: [CheckConfig] = []
        var seen: [String: Int] = [:]
        for entry in entries {
            var name = entry.name ?? {
                let column: String? = if case .string(let c)? = entry.kwargs["column"] { c } else { nil }
                return "\(self.name): \(entry.type)" + (column.map { "(\($0))" } ?? "")
            }()
            seen[name, default: 0] += 1
            if let n = seen[name], n > 1 { name += " #\(n)" }
            if ExpectationRegistry.kind(named: entry.type) == nil, skipUnsupported {
                let column: String? = if case .string(let c)? = entry.kwargs["column"] { c } else { nil }
                let skipped = ExpectationCheck(type: entry.type, table: table, column: column, kwargs: entry.kwargs, kind: nil,
                                               skipped: "\(entry.type) is not supported by drill: skipped (\"unsupported\": \"skip\")")
                out.append(CheckConfig(name: name, expectation: skipped))
                continue
            }
            if let e = ExpectationRegistry.parse(type: entry.type, table: table, kwargs: entry.kwargs,
                                                 at: entry.path + ".kwargs", reader: r) {
                out.append(CheckConfig(name: name, expectation: e))
            }
        }
        return out
    }
}
