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
    public var parameters: [String: AttributeValue]

    public init(eigenvalues: [Float], eigenvectors: [Float], degrees: [Float], residuals: [Float], count: Int,
                parameters: [String: AttributeValue] = [:]) {
        precondition(eigenvectors.count == count * eigenvalues.count && degrees.count == count && residuals.count == eigenvalues.count)
        self.eigenvalues = eigenvalues
        self.eigenvectors = eigenvectors
        self.degrees = degrees
        self.residuals = residuals
        self.count = count
        pairCount = eigenvalues.count
        self.parameters = parameters
    }
}
