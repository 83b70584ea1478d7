import Foundation

/// Reads the suite files a drill names (`expectations`) and turns them into checks.
public enum GESuiteLoader {
    /// The checks of every suite in `references`, paths relative to `directory`. Problems are issues of the suite file
    /// (`suites/users.json`), or of `drillFile` when the file cannot be read.
    public static func checks(_ references: [SuiteReference], directory: String, drillFile: String,
                              issues: inout [ConfigIssue]) -> [CheckConfig] {
        var out: [CheckConfig] = []
        for (i, ref) in references.enumerated() {
            let full = ConfigFolder.resolve(ref.path, relativeTo: directory)
            guard let data = FileManager.default.contents(atPath: full) else {
                issues.append(ConfigIssue(file: drillFile, keyPath: "expectations[\(i)].suite", message: "cannot read \(ref.path)"))
                continue
            }
            guard let value = try? JSONValue.parse(data) else {
                issues.append(ConfigIssue(file: ref.path, keyPath: "", message: "not valid JSON"))
                continue
            }
            let r = ConfigReader(file: ref.path)
            if let suite = GESuiteFile.parse(value, reader: r) {
                out += suite.checks(on: ref.table, skipUnsupported: ref.skipUnsupported, reader: r)
            }
            issues += r.issues
        }
        return out
    }
}
