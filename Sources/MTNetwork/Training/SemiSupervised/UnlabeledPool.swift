import MTCore

/// The unlabelled images of semi-supervised steps: step s takes the next `count` positions of a sequence of
/// passes over the pool, pass p in the order of RNG stream (seed ^ stream, p), so the images of a step
/// are fixed by the seed and the step alone — a resumed run draws the same ones, whatever the epoch length.
public final class UnlabeledPool {
    public let count: Int
    public let seed: UInt64
    private var passOrder: (pass: Int, order: [Int])?
    static let stream: UInt64 = 0x554E_4C41_4245_4C44

    public init(count: Int, seed: UInt64) {
        precondition(count > 0)
        self.count = count
        self.seed = seed
    }

    /// Positions (0..<count) of step `iteration`'s `take` images.
    public func positions(iteration: Int, count take: Int) -> [Int] {
        (0..<take).map { j in
            let global = iteration * take + j
            let pass = global / count
            if passOrder?.pass != pass {
                var rng = SeededGenerator(seed: seed ^ Self.stream, stream: UInt64(pass))
                passOrder = (pass, Array(0..<count).shuffled(using: &rng))
            }
            return passOrder!.order[global % count]
        }
    }

    /// The augmentation stream of step `iteration`'s unlabelled views (image j of the step draws from
    /// stream + j), apart from the labelled batches' (epoch << 32 | position).
    public static func viewStream(iteration: Int) -> UInt64 { UInt64(iteration) << 20 }
}

/// What `mt-train ssl` needs of its objective beyond the training loop's: the run's length (for the
/// schedules that follow training progress) and the mask rate it reports.
public protocol SemiSupervisedTraining: TrainingObjective {
    var totalSteps: Int { get set }
    /// The fraction of unlabelled images whose pseudo-label passed the method's mask in the last step.
    var maskRate: Double { get }
    /// The network that is evaluated and saved: the weight average when there is one.
    func evaluated(_ network: Network) -> Network
}
