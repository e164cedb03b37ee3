/// The smallest eigenpairs of a graph's normalised Laplacian: the `eigen` artifact written by
/// `mt-ncut eigen`. It is the expensive, reusable step of the normalised cut: one file serves every split
/// and label count.
///
/// On disk: `/eigenvalues` float32 [n] eigenvalues of L = I - D^-1/2 W D^-1/2 in increasing order (the
/// first is the trivial ~0), `/eigenvectors` float32 [N,n] unit eigenvectors as columns, `/degrees`
/// float32 [N] the degrees of W, `/residuals` float32 [n] ||L v - lambda v||; attributes of the graph
/// (`k`, `sigma`, `self_loop`) and of the solve (`tolerance`, `block_size`, `restarts`, `converged`).
public struct GraphEigenpairs: Sendable {
    public var eigenvalues: [Float]
    public var eigenvectors: [Float]
    public var degrees: [Float]
    public var residuals: [Float]
    public var count: Int
    public var pairCount: Int
    /// Graph and solver parameters, stored as root attributes.
    public var parameters: [String: H5AttributeValue]

    public init(eigenvalues: [Float], eigenvectors: [Float], degrees: [Float], residuals: [Float], count: Int,
                parameters: [String: H5AttributeValue] = [:]) {
        precondition(eigenvectors.count == count * eigenvalues.count && degrees.count == count && residuals.count == eigenvalues.count)
        self.eigenvalues = eigenvalues
        self.eigenvectors = eigenvectors
        self.degrees = degrees
        self.residuals = residuals
        self.count = count
        pairCount = eigenvalues.count
        self.parameters = parameters
    }

    /// Reads and checks an eigen file (hand-made ones may omit `/residuals`).
    public static func read(_ path: String) throws -> GraphEigenpairs {
        let reader = try ArtifactReader(path, expecting: .eigen)
        let values = try reader.read("/eigenvalues", as: Float.self, shape: ["n"])
        let vectors = try reader.read("/eigenvectors", as: Float.self, shape: ["N", "n"])
        let degrees = try reader.read("/degrees", as: Float.self, shape: ["N"])
        let residuals = try reader.readIfPresent("/residuals", as: Float.self, shape: ["n"])
        if let bad = degrees.values.first(where: { !($0 > 0) || !$0.isFinite }) {
            throw MTError.badInput(path, "/degrees", "expected positive degrees, found \(bad)")
        }
        if let bad = values.values.first(where: { !$0.isFinite }) {
            throw MTError.badInput(path, "/eigenvalues", "expected finite values, found \(bad)")
        }
        var parameters: [String: H5AttributeValue] = [:]
        for name in reader.file.attributeNames() where !name.hasPrefix("mt_") {
            parameters[name] = reader.file.attribute(name)
        }
        return GraphEigenpairs(eigenvalues: values.values, eigenvectors: vectors.values, degrees: degrees.values,
                               residuals: residuals?.values ?? [Float](repeating: 0, count: values.shape[0]),
                               count: vectors.shape[0], parameters: parameters)
    }

    public func write(_ path: String, inputs: [String]) throws {
        let writer = try ArtifactWriter(path, kind: .eigen, inputs: inputs)
        try writer.file.write("/eigenvalues", eigenvalues)
        try writer.file.write("/eigenvectors", eigenvectors, shape: [count, pairCount])
        try writer.file.write("/degrees", degrees)
        try writer.file.write("/residuals", residuals)
        try writer.file.setAttribute("num_samples", count)
        for (name, value) in parameters.sorted(by: { $0.key < $1.key }) where name != "num_samples" {
            try writer.file.setAttribute(name, value)
        }
        try writer.commit()
    }
}
