import MTCore

extension ImageDataset {
    /// Reads and checks a dataset file.
    public static func read(_ path: String) throws -> ImageDataset {
        let reader = try ArtifactReader(path, expecting: .dataset)
        // Shapes first, so that /images and /labels must agree before the large read.
        try reader.check("/images", as: UInt8.self, shape: ["N", "H", "W", "C"])
        let names = try reader.classNames()
        let (labels, classCount) = try reader.readLabels("/labels", shape: ["N"], classes: names.isEmpty ? nil : names.count,
                                                        unknownAllowed: true)
        let images = try reader.read("/images", as: UInt8.self, shape: ["N", "H", "W", "C"])
        return ImageDataset(images: images.values, count: images.shape[0], height: images.shape[1],
                            width: images.shape[2], channels: images.shape[3], labels: labels,
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

