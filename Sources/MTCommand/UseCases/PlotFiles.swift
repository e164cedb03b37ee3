import MTAlgorithms
import MTStorage

extension PlotCanvas {
    /// Encodes the picture as an RGB PNG and writes it atomically (refused if `path` is one of `inputs`).
    func writePNG(_ path: String, inputs: [String]) throws {
        let image = PixelImage(pixels: pixels, width: width, height: height, channels: 3)
        try AtomicFile.write(path, inputs: inputs) { try image.writePNG($0) }
    }
}
