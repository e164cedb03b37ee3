import Foundation
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

@Suite struct PlotTests {
    func temporaryDirectory() throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mt-plot-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Pixels of `image` equal to `color`.
    func count(_ image: PixelImage, _ color: PlotColor) -> Int {
        stride(from: 0, to: image.pixels.count, by: 3).filter {
            image.pixels[$0] == color.r && image.pixels[$0 + 1] == color.g && image.pixels[$0 + 2] == color.b
        }.count
    }

    @Test func fontCoversPrintableASCII() {
        for code in 33...126 {
            let character = Character(UnicodeScalar(UInt8(code)))
            let lit = (0..<5).contains { column in (0..<7).contains { PlotFont.pixel(character, column: column, row: $0) } }
            #expect(lit, "glyph \(character) is blank")
        }
        #expect(PlotCanvas.textWidth("100%", scale: 2) == 46)
    }

    @Test func textDrawsWithinItsBox() {
        let canvas = PlotCanvas(width: 60, height: 20)
        canvas.text("Ag", x: 2, y: 3)
        var lit: [(Int, Int)] = []
        for y in 0..<20 {
            for x in 0..<60 where canvas.pixels[(y * 60 + x) * 3] != 255 { lit.append((x, y)) }
        }
        #expect(!lit.isEmpty)
        #expect(lit.allSatisfy { $0.0 >= 2 && $0.0 < 2 + PlotCanvas.textWidth("Ag", scale: 2) && $0.1 >= 3 && $0.1 < 3 + 14 })
    }

    @Test func accuracyCoveragePNGDecodesWithCurvesAndText() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let falling = (1...1000).map { Float(1 - 0.3 * Double($0) / 1000) }
        let flat = [Float](repeating: 0.8, count: 500)
        try PlotCharts.accuracyCoverage([("falling", falling), ("flat", flat)], title: "Accuracy vs coverage")
            .writePNG(directory + "/curves.png", inputs: [])
        let image = try PixelImage.readPNG(directory + "/curves.png")
        #expect(image.width == 960 && image.height == 640 && image.channels == 3)
        #expect(count(image, PlotColor.cycle[0]) > 500)  // the first curve, fully covered pixels
        #expect(count(image, PlotColor.cycle[1]) > 500)
        #expect(count(image, .text) > 1000)  // tick labels, legend, axis labels
        #expect(count(image, .white) > image.width * image.height / 2)
    }

    @Test func confusionHeatMapDecodesWithShadedCells() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = MetricsRun(name: "r", source: "r.h5", kind: "pseudo-labels", scalars: [], classNames: ["cat", "dog", "bird"],
                             confusion: [8, 2, 0, 1, 9, 0, 0, 5, 5], perClass: [], curves: [])
        let canvas = PlotCharts.confusion(run, title: "r: confusion")
        try canvas.writePNG(directory + "/confusion.png", inputs: [])
        let image = try PixelImage.readPNG(directory + "/confusion.png")
        #expect(image.width == canvas.width && image.height == canvas.height)
        #expect(image.pixels == canvas.pixels)
        // A cell corner away from its number has the colour of its row share: 0 for (0,2), 90% for (1,1).
        #expect(count(image, PlotCharts.blues(0)) > 56 * 56 * 2)
        #expect(count(image, PlotCharts.blues(0.9)) > 56 * 56 / 2)
    }

    @Test func manyClassesStillFit() {
        let classes = 100
        var confusion = [Int](repeating: 1, count: classes * classes)
        for c in 0..<classes { confusion[c * classes + c] = 50 }
        let run = MetricsRun(name: "r", source: "r.h5", kind: "pseudo-labels", scalars: [],
                             classNames: (0..<classes).map { "class number \($0)" }, confusion: confusion, perClass: [], curves: [])
        let canvas = PlotCharts.confusion(run, title: "many")
        #expect(canvas.width < 1400 && canvas.height < 1400)
    }
}
