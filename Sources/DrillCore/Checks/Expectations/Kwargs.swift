/// An expectation's kwargs while they are parsed: each read records its problem (with the key path) in `reader`.
public struct Kwargs {
    public var values: [String: JSONValue]
    /// The key path of the kwargs object (`checks[2]`, `expectations[0].kwargs` in a suite).
    public var path: String
    public var reader: ConfigReader

    public init(_ values: [String: JSONValue], at path: String, reader: ConfigReader) {
        self.values = values.filter { $0.value != .null }  // suites write `"max_value": null` for "no bound"
        self.path = path
        self.reader = reader
    }

    func at(_ key: String) -> String { reader.join(path, key) }

    /// A number, a boolean or a string.
    func value(_ key: String, required: Bool = false) -> ExpectationValue? {
        switch values[key] {
        case nil:
            if required { reader.fail(at(key), "missing required key") }
            return nil
        case .number(let n)?: return .number(n)
        case .bool(let b)?: return .bool(b)
        case .string(let s)?: return .text(s)
        case let other?:
            reader.fail(at(key), "expected a number, a boolean or a string, found \(other.typeName)")
            return nil
        }
    }

    /// A bound: a value, or `"rpo"` (no older than the tier's RPO at the drill's start).
    func bound(_ key: String, required: Bool = false) -> BoundValue? {
        guard let v = value(key, required: required) else { return nil }
        if case .text("rpo") = v { return .rpo }
        return .value(v)
    }

    func bool(_ key: String) -> Bool? {
        guard let v = values[key] else { return nil }
        guard case .bool(let b) = v else {
            reader.fail(at(key), "expected true or false, found \(v.compactText)")
            return nil
        }
        return b
    }

    func string(_ key: String, required: Bool = false) -> String? {
        reader.string(values[key], at: at(key), required: required)
    }

    func integer(_ key: String, range: ClosedRange<Int>) -> Int? {
        reader.integer(values[key], at: at(key), range: range)
    }

    /// A list of scalars (`value_set`).
    func list(_ key: String) -> [ExpectationValue]? {
        guard let v = values[key] else {
            reader.fail(at(key), "missing required key")
            return nil
        }
        guard case .array(let items) = v else {
            reader.fail(at(key), "expected an array, found \(v.typeName)")
            return nil
        }
        var out: [ExpectationValue] = []
        for (i, item) in items.enumerated() {
            switch item {
            case .number(let n): out.append(.number(n))
            case .bool(let b): out.append(.bool(b))
            case .string(let s): out.append(.text(s))
            default: reader.fail(at(key) + "[\(i)]", "expected a number, a boolean or a string, found \(item.typeName)")
            }
        }
        return out.count == items.count ? out : nil
    }

    /// A list of strings (`column_set`).
    func strings(_ key: String) -> [String]? {
        guard let items = list(key) else { return nil }
        let texts = items.compactMap { if case .text(let s) = $0 { s } else { nil } }
        guard texts.count == items.count else {
            reader.fail(at(key), "expected an array of column names")
            return nil
        }
        return texts
    }

    /// `min_value` / `max_value` (at least one) with `strict_min` / `strict_max`.
    func range() -> ValueRange? {
        let min = bound("min_value"), max = bound("max_value")
        let strictMin = bool("strict_min") ?? false, strictMax = bool("strict_max") ?? false
        if values["min_value"] == nil && values["max_value"] == nil {
            reader.fail(path, "give min_value, max_value or both")
            return nil
        }
        guard (min != nil || values["min_value"] == nil), (max != nil || values["max_value"] == nil) else { return nil }
        return ValueRange(min: min, max: max, strictMin: strictMin, strictMax: strictMax)
    }
}
