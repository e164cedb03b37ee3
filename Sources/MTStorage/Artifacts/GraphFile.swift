import MTCore

extension KNNGraph {
    public static func read(_ path: String) throws -> KNNGraph {
        let reader = try ArtifactReader(path, expecting: .graph)
        let shape = try reader.check("/neighbors", as: Int32.self, shape: ["N", "K"])
        let databaseSize = reader.intAttribute("database_size") ?? shape[0]
        guard (1...Int(Int32.max)).contains(databaseSize) else {
            throw MTError.badInput(path, nil, "expected database_size in 1...\(Int32.max), found \(databaseSize)")
        }
        let neighbors = try reader.readIndices("/neighbors", stored: Int32.self, shape: ["N", "K"], below: databaseSize, unique: false)
        let similarities = try reader.readFinite("/similarities", shape: ["N", "K"])
        return KNNGraph(neighbors: neighbors.map { Int32($0) }, similarities: similarities.values, count: shape[0],
                        k: shape[1], databaseSize: databaseSize, selfIncluded: reader.intAttribute("self_included") == 1)
    }

    /// `attributes`: how an approximate graph was made (`index`, `nprobe`, `ef_search`, `recall`, ...).
    public func write(_ path: String, inputs: [String], attributes: [String: AttributeValue] = [:]) throws {
        let writer = try ArtifactWriter(path, kind: .graph, inputs: inputs)
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) { try writer.file.setAttribute(name, value) }
        try writer.file.write("/neighbors", neighbors, shape: [count, k])
        try writer.file.write("/similarities", similarities, shape: [count, k])
        try writer.file.setAttribute("k", k)
        try writer.file.setAttribute("metric", "inner_product")
        try writer.file.setAttribute("self_included", selfIncluded ? 1 : 0)
        try writer.file.setAttribute("database_size", databaseSize)
        try writer.commit()
    }
}
