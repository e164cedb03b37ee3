import Foundation
import MTAlgorithms
import MTCore

/// Learning rate as a function of training progress, evaluated every iteration (t = fractional epoch).
public enum LearningRateSchedule: Sendable, Equatable {
    /// lr * 0.5 * (1 + cos(pi * t / T)), T = total epochs.
    case cosine
    /// SGDR (Loshchilov & Hutter): cosine within cycles of `period` epochs, each `multiplier` times longer
    /// than the last, restarting at the base lr.
    case cosineRestarts(period: Double, multiplier: Double)
    /// lr * gamma^(number of milestones passed), milestones in epochs.
    case step(milestones: [Double], gamma: Double)
    case constant

    /// Parses `cosine`, `restarts:PERIOD[:MULT]`, `step:E1,E2,...[:GAMMA]` or `constant`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":").map(String.init)
        switch parts.first {
        case "cosine" where parts.count == 1: self = .cosine
        case "constant" where parts.count == 1: self = .constant
        case "restarts" where parts.count >= 2:
            guard let period = Double(parts[1]), period > 0,
                  let mult = parts.count > 2 ? Double(parts[2]) : 1, mult >= 1 else { fallthrough }
            self = .cosineRestarts(period: period, multiplier: mult)
        case "step" where parts.count >= 2:
            let milestones = parts[1].split(separator: ",").compactMap { Double($0) }
            guard !milestones.isEmpty, let gamma = parts.count > 2 ? Double(parts[2]) : 0.1 else { fallthrough }
            self = .step(milestones: milestones, gamma: gamma)
        default:
            throw MTError.usage("--schedule: expected cosine, restarts:PERIOD[:MULT], step:E1,E2[:GAMMA] or constant, found '\(text)'")
        }
    }

    /// The learning rate at fractional epoch `t` of `total`.
    public func rate(base: Double, epoch t: Double, total: Double) -> Double {
        switch self {
        case .constant:
            return base
        case .cosine:
            return base * 0.5 * (1 + cos(Double.pi * min(t / total, 1)))
        case .cosineRestarts(let period, let multiplier):
            var start = 0.0, length = period
            while t >= start + length {
                start += length
                length *= multiplier
            }
            return base * 0.5 * (1 + cos(Double.pi * (t - start) / length))
        case .step(let milestones, let gamma):
            return base * pow(gamma, Double(milestones.filter { t >= $0 }.count))
        }
    }
}
