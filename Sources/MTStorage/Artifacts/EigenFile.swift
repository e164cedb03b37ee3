import MTCore

extension GraphEigenpairs {
    /// Reads and checks an eigen file (hand-made ones may omit `/residuals`).
    public static func read(_ path: String) throws -> GraphEigenpairs {
        let reader = try ArtifactReader(path, expecting: .eigen)
        try reader.check("/eigenvectors", as: Float.self, shape: ["N", "n"])
        try reader.check("/degrees", as: Float.self, shape: ["N"])
        let values = try reader.readFinite("/eigenvalues", shape: ["n"])
        let residuals = try reader.readFiniteIfPresent("/residuals", shape: ["n"])
        let degrees = try reader.readFinite("/degrees", shape: ["N"])
        if let row = degrees.values.firstIndex(where: { !($0 > 0) }) {
            throw MTError.badInput(path, "/degrees", "expected positive degrees, found \(degrees.values[row]) in row \(row)")
        }
        let vectors = try reader.readFinite("/eigenvectors", shape: ["N", "n"])
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

