import MTCore

extension ImageDataset {
    /// Reads and checks a dataset file.
    public static func read(_ path: String) throws -> ImageDataset {
        let reader = try ArtifactReader(path, expecting: .dataset)
        let images = try reader.read("/images", as: UInt8.self, shape: ["N", "H", "W", "C"])
        let labels = try reader.read("/labels", as: Int32.self, shape: ["N"])
        let names = reader.file.exists("/class_names") ? try reader.file.readStrings("/class_names") : []
        let classCount = max(names.count, Int(labels.values.max() ?? -1) + 1)
        if let bad = labels.values.first(where: { $0 < -1 || ($0 >= 0 && !names.isEmpty && Int($0) >= names.count) }) {
            throw MTError.badInput(path, "/labels", "expected labels in -1..<\(classCount), found \(bad)")
        }
        return ImageDataset(images: images.values, count: images.shape[0], height: images.shape[1],
                            width: images.shape[2], channels: images.shape[3], labels: labels.values,
                            classNames: names.isEmpty ? (0..<classCount).map(String.init) : names,
                            name: reader.stringAttribute("name") ?? "")
    }

    /// Writes the dataset artifact atomically.
    public func write(_ path: String, inputs: [String]) throws {
        let writer = try ArtifactWriter(path, kind: .dataset, inputs: inputs)
        try writer.file.write("/images", images, shape: [count, height, width, channels], deflate: 4)
        try writer.file.write("/labels", labels)
        try writer.file.writeStrings("/class_names", classNames)
        try writer.file.setAttribute("name", name)
        try writer.commit()
    }
}

