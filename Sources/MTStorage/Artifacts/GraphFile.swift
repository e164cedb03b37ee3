import MTCore

extension KNNGraph {
    public static func read(_ path: String) throws -> KNNGraph {
        let reader = try ArtifactReader(path, expecting: .graph)
        let neighbors = try reader.read("/neighbors", as: Int32.self, shape: ["N", "K"])
        let similarities = try reader.read("/similarities", as: Float.self, shape: ["N", "K"])
        let databaseSize = reader.intAttribute("database_size") ?? neighbors.shape[0]
        if let bad = neighbors.values.first(where: { $0 < 0 || Int($0) >= databaseSize }) {
            throw MTError.badInput(path, "/neighbors", "expected indices in 0..<\(databaseSize), found \(bad)")
        }
        return KNNGraph(neighbors: neighbors.values, similarities: similarities.values, count: neighbors.shape[0],
                        k: neighbors.shape[1], databaseSize: databaseSize, selfIncluded: reader.intAttribute("self_included") == 1)
    }

    public func write(_ path: String, inputs: [String]) throws {
        let writer = try ArtifactWriter(path, kind: .graph, inputs: inputs)
        try writer.file.write("/neighbors", neighbors, shape: [count, k])
        try writer.file.write("/similarities", similarities, shape: [count, k])
        try writer.file.setAttribute("k", k)
        try writer.file.setAttribute("metric", "inner_product")
        try writer.file.setAttribute("self_included", selfIncluded ? 1 : 0)
        try writer.file.setAttribute("database_size", databaseSize)
        try writer.commit()
    }
}

