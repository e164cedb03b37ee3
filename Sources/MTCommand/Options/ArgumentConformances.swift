import ArgumentParser
import MTAlgorithms
import MTCore
import MTNetwork

// How the values of the lower layers are spelled on the command line. The types themselves know nothing
// of argument parsing; the command layer teaches ArgumentParser to read them.

extension ByteCount: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
}

extension Architecture: ExpressibleByArgument {}
extension InputNormalization: ExpressibleByArgument {}
extension Augmentation: ExpressibleByArgument {}
extension SemiSupervisedMethod: ExpressibleByArgument {}
extension AnnealingSchedule: ExpressibleByArgument {}
extension TestTimeAugmentation: ExpressibleByArgument {}
extension FeatureLayer: ExpressibleByArgument {}
extension MetricObjective: ExpressibleByArgument {}
extension SelectionWeighting: ExpressibleByArgument {}
