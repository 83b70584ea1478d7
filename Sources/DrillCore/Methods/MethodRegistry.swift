/// The methods a drill file can name, and how the runner finds the live implementation of each.
///
/// Adding a method: its parser goes into `MethodParsers.all` (config time, here in DrillCore) and its implementation
/// into a `MethodRegistry` (run time; the live one is built in `DrillLive.LiveDependencies`).
public enum MethodParsers {
    /// Every method's parser, in the order `drill validate` lists them.
    public static let all: [any MethodParser] = [
        DumpParser(),
        BaseBackupParser(),
        BarmanCloudParser(),
        BarmanParser(),
        PgBackRestParser(),
        ReplicaParser(),
    ]

    public static func parser(for kind: MethodKind) -> (any MethodParser)? { all.first { $0.kind == kind } }

    /// Every top-level key some method reads.
    public static var keys: Set<String> { all.reduce(into: Set<String>()) { $0.formUnion($1.keys) } }

    /// The method a drill file is written for: `backup.kind` when given; else `basebackup` for a
    /// `backup.format: basebackup` or a drill with a `wal` archive; else `dump`.
    public static func kind(of top: [String: JSONValue]) -> MethodKind? {
        if case .object(let backup)? = top["backup"], let k = backup["kind"] {
            if case .string(let s) = k { return MethodKind(rawValue: s) }
            return nil
        }
        for parser in all where parser.claims(top) { return parser.kind }
        if case .object(let backup)? = top["backup"], case .string("basebackup")? = backup["format"] { return .basebackup }
        if top["wal"] != nil { return .basebackup }
        return .dump
    }
}

extension MethodParser {
    /// Whether a drill file without `backup.kind` is this method's, by a key only it has (`replica`). By default none.
    public func claims(_ top: [String: JSONValue]) -> Bool { false }
}

/// The run-time implementations of the methods, by kind.
public struct MethodRegistry: Sendable {
    private var methods: [MethodKind: any DrillMethod]

    public init(_ methods: [MethodKind: any DrillMethod] = [:]) { self.methods = methods }

    public mutating func register(_ kind: MethodKind, _ method: any DrillMethod) { methods[kind] = method }

    public func method(for kind: MethodKind) -> (any DrillMethod)? { methods[kind] }

    public var kinds: [MethodKind] { methods.keys.sorted { $0.rawValue < $1.rawValue } }
}
