import MTCore

/// The labels of a dataset or features file (`/labels`, -1 unknown) and its class names: what a split is
/// drawn from and what evaluation scores against.
public struct TruthLabels: Sendable {
    public var labels: [Int32]
    public var classNames: [String]

    public static func read(_ path: String) throws -> TruthLabels {
        let reader = try ArtifactReader(path, expecting: [.dataset, .features])
        let labels = try reader.read("/labels", as: Int32.self, shape: ["N"])
        if let bad = labels.values.first(where: { $0 < -1 }) {
            throw MTError.badInput(path, "/labels", "expected labels >= -1, found \(bad)")
        }
        let names = reader.file.exists("/class_names") ? try reader.file.readStrings("/class_names") : []
        return TruthLabels(labels: labels.values, classNames: names)
    }
}
