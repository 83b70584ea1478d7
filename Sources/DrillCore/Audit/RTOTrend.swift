/// The linear trend of a drill's measured RTO over its recent runs, and whether it is heading for the target.
public struct RTOTrend: Sendable, Equatable {
    /// Seconds per run (least squares over the last `points` measured runs).
    public var slopePerRun: Double
    public var points: Int
    /// The fitted RTO at the latest run.
    public var fittedLatest: Double
    /// Runs from the latest one until the trend line reaches the target, when that is within `horizon` runs and the
    /// latest measured RTO is still within target; nil otherwise.
    public var runsToBreach: Int?

    public static let horizon = 6
    public static let window = 12

    /// nil with fewer than 3 measured runs.
    public static func fit(_ rtos: [Double], target: Double) -> RTOTrend? {
        let ys = Array(rtos.suffix(window))
        guard ys.count >= 3 else { return nil }
        let n = Double(ys.count)
        let meanX = (n - 1) / 2
        let meanY = ys.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0
        for (i, y) in ys.enumerated() {
            sxy += (Double(i) - meanX) * (y - meanY)
            sxx += (Double(i) - meanX) * (Double(i) - meanX)
        }
        let slope = sxy / sxx
        let intercept = meanY - slope * meanX
        let latestX = n - 1
        var breach: Int?
        if slope > 0, ys.last! <= target {
            breach = (1...horizon).first { intercept + slope * (latestX + Double($0)) > target }
        }
        return RTOTrend(slopePerRun: slope, points: ys.count, fittedLatest: intercept + slope * latestX, runsToBreach: breach)
    }
}
