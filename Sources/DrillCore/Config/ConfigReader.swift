/// Walks a `JSONValue` while tracking the key path, and collects every problem instead of stopping at the first.
///
/// Readers return `nil` for a missing or invalid value after recording an issue, so a whole file is checked in one pass.
public final class ConfigReader {
    public let file: String
    public private(set) var issues: [ConfigIssue] = []

    public init(file: String) { self.file = file }

    public func fail(_ path: String, _ message: String) {
        issues.append(ConfigIssue(file: file, keyPath: path, message: message))
    }

    /// An object's members, after checking that no key outside `allowed` is present.
    public func object(_ value: JSONValue?, at path: String, allowed: Set<String>?) -> [String: JSONValue]? {
        guard let value else { return nil }
        guard case .object(let members) = value else {
            fail(path, "expected an object, found \(value.typeName)")
            return nil
        }
        guard let allowed else { return members }
        for key in members.keys.sorted() where !allowed.contains(key) {
            let known = allowed.sorted().joined(separator: ", ")
            fail(join(path, key), "unknown key (allowed here: \(known))")
        }
        return members
    }

    public func string(_ value: JSONValue?, at path: String, required: Bool = false) -> String? {
        guard let value else {
            if required { fail(path, "missing required key") }
            return nil
        }
        guard case .string(let s) = value else {
            fail(path, "expected a string, found \(value.typeName)")
            return nil
        }
        return s
    }

    public func integer(_ value: JSONValue?, at path: String, range: ClosedRange<Int>) -> Int? {
        guard let value else { return nil }
        guard case .number(let n) = value, n == n.rounded(), n >= Double(range.lowerBound), n <= Double(range.upperBound) else {
            fail(path, "expected a whole number from \(range.lowerBound) to \(range.upperBound), found \(value.compactText)")
            return nil
        }
        return Int(n)
    }

    public func number(_ value: JSONValue?, at path: String) -> Double? {
        guard let value else { return nil }
        guard case .number(let n) = value else {
            fail(path, "expected a number, found \(value.typeName)")
            return nil
        }
        return n
    }

    public func duration(_ value: JSONValue?, at path: String, required: Bool = false) -> DrillDuration? {
        guard let s = string(value, at: path, required: required) else { return nil }
        guard let d = DrillDuration(parsing: s) else {
            fail(path, "not a duration: \"\(s)\" (whole numbers with units d, h, m, s, e.g. 90s, 1h30m)")
            return nil
        }
        return d
    }

    public func oneOf<T: RawRepresentable & CaseIterable>(_ value: JSONValue?, at path: String, _: T.Type) -> T?
    where T.RawValue == String {
        guard let s = string(value, at: path) else { return nil }
        guard let v = T(rawValue: s) else {
            fail(path, "\"\(s)\" is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return v
    }

    /// Checks the `version` key of a config file.
    public func version(_ members: [String: JSONValue], supported: Int) {
        guard let v = members["version"] else {
            fail("version", "missing required key (this drill understands version \(supported))")
            return
        }
        guard case .number(let n) = v, n == Double(supported) else {
            fail("version", "unsupported version \(v.compactText) (this drill understands version \(supported))")
            return
        }
    }

    public func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
}
