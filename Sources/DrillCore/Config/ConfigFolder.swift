import Foundation

/// A loaded config folder: `tiers.json` and `drills/*.json`.
public struct ConfigFolder: Sendable {
    public var directory: String
    public var tiers: TiersFile
    public var drills: [DrillConfig]

    public init(directory: String, tiers: TiersFile, drills: [DrillConfig]) {
        self.directory = directory
        self.tiers = tiers
        self.drills = drills
    }

    /// Loads and checks the whole folder. Throws `ConfigErrors` listing every problem in every file.
    public static func load(from directory: String) throws -> ConfigFolder {
        let fm = FileManager.default
        var issues: [ConfigIssue] = []
        let tiersPath = (directory as NSString).appendingPathComponent("tiers.json")
        var tiers: TiersFile?
        if let value = readJSON(tiersPath, display: "tiers.json", issues: &issues) {
            let r = ConfigReader(file: "tiers.json")
            tiers = TiersFile.parse(value, reader: r)
            issues += r.issues
        }
        let drillsDir = (directory as NSString).appendingPathComponent("drills")
        var drills: [DrillConfig] = []
        var isDir: ObjCBool = false
        if !fm.fileExists(atPath: drillsDir, isDirectory: &isDir) || !isDir.boolValue {
            issues.append(ConfigIssue(file: "drills/", keyPath: "", message: "folder not found in \(directory)"))
        } else {
            let names = ((try? fm.contentsOfDirectory(atPath: drillsDir)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
            if names.isEmpty {
                issues.append(ConfigIssue(file: "drills/", keyPath: "", message: "no drill files (*.json)"))
            }
            for file in names {
                let display = "drills/\(file)"
                guard let value = readJSON((drillsDir as NSString).appendingPathComponent(file), display: display,
                                           issues: &issues) else { continue }
                let r = ConfigReader(file: display)
                let name = String(file.dropLast(5))
                if var d = DrillConfig.parse(value, name: name, file: display, tiers: tiers?.tiers, reader: r) {
                    d.settings = d.settings.resolvingPaths { resolve($0, relativeTo: directory) }
                    d.checks += GESuiteLoader.checks(d.suites, directory: directory, drillFile: display, issues: &issues)
                    for name in Dictionary(grouping: d.checks.map(\.name), by: { $0 }).filter({ $0.value.count > 1 }).keys.sorted() {
                        issues.append(ConfigIssue(file: display, keyPath: "expectations", message: "duplicate check name \"\(name)\""))
                    }
                    issues += LocationCheck.issues(d)
                    drills.append(d)
                }
                issues += r.issues
            }
        }
        let tierNames = Set(tiers.map { Array($0.tiers.keys) } ?? [])
        for d in drills where tierNames.contains(d.name) {
            issues.append(ConfigIssue(file: d.file, keyPath: "", message: "a drill may not share its name with tier \"\(d.name)\""))
        }
        guard issues.isEmpty, let tiers else { throw ConfigErrors(issues) }
        return ConfigFolder(directory: directory, tiers: tiers, drills: drills)
    }

    /// A relative local path in a drill file is relative to the config folder, so a folder works wherever it is run from.
    static func resolve(_ location: String, relativeTo directory: String) -> String {
        guard URLScheme.of(location) == nil, !location.hasPrefix("/"), !location.hasPrefix("~") else { return location }
        let base = directory.hasPrefix("/") ? directory : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(directory)
        return ((base as NSString).appendingPathComponent(location) as NSString).standardizingPath
    }

    private static func readJSON(_ path: String, display: String, issues: inout [ConfigIssue]) -> JSONValue? {
        guard let data = FileManager.default.contents(atPath: path) else {
            issues.append(ConfigIssue(file: display, keyPath: "", message: "cannot read file"))
            return nil
        }
        do {
            return try JSONValue.parse(data)
        } catch {
            issues.append(ConfigIssue(file: display, keyPath: "", message: "not valid JSON (\(jsonErrorSummary(error)))"))
            return nil
        }
    }

    private static func jsonErrorSummary(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let ctx) = error {
            let underlying = (ctx.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? ctx.debugDescription
        }
        return "\(error)"
    }

    /// The tier of a drill (present after a successful load).
    public func tier(of drill: DrillConfig) -> TierConfig { tiers.tiers[drill.tier]! }

    /// Resolves command-line targets: tier names (all their drills) or drill names, in config order, without repeats.
    public func select(_ targets: [String]) throws -> [DrillConfig] {
        var chosen: [DrillConfig] = []
        for t in targets {
            let matches: [DrillConfig]
            if tiers.tiers[t] != nil { matches = drills.filter { $0.tier == t } }
            else if let d = drills.first(where: { $0.name == t }) { matches = [d] }
            else {
                throw ConfigErrors([ConfigIssue(file: "command line", keyPath: "", message:
                    "\"\(t)\" is neither a tier (\(tiers.tiers.keys.sorted().joined(separator: ", "))) nor a drill (\(drills.map(\.name).joined(separator: ", ")))")])
            }
            for m in matches where !chosen.contains(where: { $0.name == m.name }) { chosen.append(m) }
        }
        return chosen
    }
}
