import MTCore

extension GraphEigenpairs {
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
        var parameters: [String: AttributeValue] = [:]
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

