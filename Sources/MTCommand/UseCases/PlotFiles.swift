import MTAlgorithms
import MTStorage

extension PlotCanvas {
    /// Encodes the picture as an RGB PNG and writes it atomically.
    func writePNG(_ path: String) throws {
        let image = PNGImage(pixels: pixels, width: width, height: height, channels: 3)
        try AtomicFile.write(path) { try image.write($0) }
    }
}
