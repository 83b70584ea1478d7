import Foundation

/// An inline SVG line chart of one measurement per run against a horizontal target line. Points over the target,
/// and runs with no measurement (drawn on the axis as crosses), are red. No scripts: hover titles only.
///
/// The scale follows the measurements: a target more than three times the largest value is not drawn (the values
/// would lie flat on the axis) but named above the chart, with the headroom it leaves.
public enum SVGChart {
    public struct Point: Sendable {
        public var date: Date
        public var value: Double?
        public init(date: Date, value: Double?) {
            self.date = date
            self.value = value
        }
    }

    public static func render(title: String, points: [Point], target: Double, width: Int = 420, height: Int = 180) -> String {
        let left = 64.0, right = 12.0, top = 24.0, bottom = 28.0
        let w = Double(width) - left - right, h = Double(height) - top - bottom
        let dataMax = points.compactMap(\.value).max() ?? 0
        let targetShown = dataMax <= 0 || target <= dataMax * 3
        let top_ = (targetShown ? max(target, dataMax) : dataMax) * 1.15
        let maxY = top_ > 0 ? top_ : 1
        func x(_ i: Int) -> Double { points.count <= 1 ? left + w / 2 : left + w * Double(i) / Double(points.count - 1) }
        func y(_ v: Double) -> Double { top + h - h * v / maxY }
        func f(_ d: Double) -> String { String(format: "%.1f", d) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(XML.escape(title))\">"
        s += "<title>\(XML.escape(title))</title>"
        s += "<text x=\"\(f(left))\" y=\"14\" class=\"ct\">\(XML.escape(title))</text>"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top + h))\" x2=\"\(f(left + w))\" y2=\"\(f(top + h))\" class=\"axis\"/>"
        s += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + h))\" class=\"axis\"/>"
        s += "<text x=\"\(f(left - 6))\" y=\"\(f(top + 4))\" class=\"yl\">\(XML.escape(formatSeconds(maxY)))</text>"
        s += "<text x=\"\(f(left - 6))\" y=\"\(f(top + h + 4))\" class=\"yl\">0</text>"
        s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(maxY / 2) + 4))\" class=\"yl\">\(XML.escape(formatSeconds(maxY / 2)))</text>"
        if targetShown {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y(target)))\" x2=\"\(f(left + w))\" y2=\"\(f(y(target)))\" class=\"target\"><title>target \(XML.escape(formatSeconds(target)))</title></line>"
            s += "<text x=\"\(f(left - 6))\" y=\"\(f(y(target) + 4))\" class=\"yl tl\">\(XML.escape(formatSeconds(target)))</text>"
        } else {
            s += "<text x=\"\(f(left + w))\" y=\"\(f(top - 4))\" class=\"xl end tl\">target \(XML.escape(formatSeconds(target))) off scale: \(Int(target / dataMax))× the largest value</text>"
        }
        let measured = points.enumerated().compactMap { i, p in p.value.map { (i, $0) } }
        if measured.count > 1 {
            s += "<polyline class=\"series\" points=\"" + measured.map { "\(f(x($0.0))),\(f(y($0.1)))" }.joined(separator: " ") + "\"/>"
        }
        for (i, p) in points.enumerated() {
            let day = String(RFC3339.format(p.date).prefix(10))
            if let v = p.value {
                s += "<circle cx=\"\(f(x(i)))\" cy=\"\(f(y(v)))\" r=\"4\" class=\"\(v > target ? "over" : "ok")\"><title>\(day): \(XML.escape(formatSeconds(v)))</title></circle>"
            } else {
                s += "<text x=\"\(f(x(i)))\" y=\"\(f(top + h + 4))\" class=\"miss\">×<title>\(day): not measured</title></text>"
            }
        }
        if let first = points.first, let last = points.last {
            s += "<text x=\"\(f(left))\" y=\"\(height - 8)\" class=\"xl\">\(RFC3339.format(first.date).prefix(10))</text>"
            if points.count > 1 { s += "<text x=\"\(f(left + w))\" y=\"\(height - 8)\" class=\"xl end\">\(RFC3339.format(last.date).prefix(10))</text>" }
        } else {
            s += "<text x=\"\(f(left + w / 2))\" y=\"\(f(top + h / 2))\" class=\"xl mid\">no runs</text>"
        }
        return s + "</svg>"
    }
}
