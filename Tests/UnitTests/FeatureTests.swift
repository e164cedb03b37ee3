import Foundation
import TestSupport
import Testing
@testable import MTCore
@testable import MTStorage
@testable import MTAlgorithms
@testable import MTNetwork
@testable import MTCommand

@Suite struct FeatureTests {
    /// A tiny gray data set whose pixels vary mostly along one direction.
    func dataset(count: Int = 50) -> ImageDataset {
        var generator = SeededGenerator(seed: 1)
        var images: [UInt8] = []
        for i in 0..<count {
            let t = Float(i) / Float(count)
            for j in 0..<9 {
                let value = 128 + 100 * t * (j < 5 ? 1 : -1) + 5 * generator.nextNormal()
                images.append(UInt8(max(0, min(255, value))))
            }
        }
        return ImageDataset(images: images, count: count, height: 3, width: 3, channels: 1,
                            labels: (0..<count).map { Int32($0 % 2) }, classNames: ["a", "b"], name: "t")
    }

    @Test func pixelsAreScaledAndUnitNorm() {
        let features = PixelFeatures.extract(dataset(), normalize: true)
        #expect(features.dimension == 9 && features.count == 50)
        for row in 0..<features.count {
            let norm = (0..<9).reduce(Float(0)) { $0 + features.values[row * 9 + $1] * features.values[row * 9 + $1] }
            #expect(abs(norm - 1) < 1e-5)
        }
        #expect(abs(PixelFeatures.matrix(dataset())[0] - Float(dataset().images[0]) / 255) < 1e-7)
    }

    @Test func pcaAxesAreOrthonormalSortedAndWhitened() throws {
        let data = dataset(count: 400)
        var matrix = PixelFeatures.matrix(data)
        let pca = try PCAProjection.fit(&matrix, rows: 400, dimension: 9, components: 3, whiten: true)
        #expect(pca.variances[0] >= pca.variances[1] && pca.variances[1] >= pca.variances[2])
        for a in 0..<3 {
            for b in 0..<3 {
                let dot = (0..<9).reduce(Float(0)) { $0 + pca.components[a * 9 + $1] * pca.components[b * 9 + $1] }
                #expect(abs(dot - (a == b ? 1 : 0)) < 1e-4)
            }
        }
        // Whitened projections of the fitting data have unit variance along each axis.
        let projected = pca.projectCentered(matrix, rows: 400)
        for axis in 0..<3 {
            let column = (0..<400).map { Double(projected[$0 * 3 + axis]) }
            let variance = column.reduce(0) { $0 + $1 * $1 } / 399
            #expect(abs(variance - 1) < 0.01)
        }
        // The leading axis is the direction the data was built along: +1 on 5 pixels, -1 on 4.
        let leading = (0..<9).map { pca.components[$0] * (pca.components[0] > 0 ? 1 : -1) }
        #expect(leading.prefix(5).allSatisfy { $0 > 0.25 } && leading.suffix(4).allSatisfy { $0 < -0.25 })
    }

    @Test func storedPCAProjectsNewDataLikeTheFit() throws {
        try TestSupport.withTemporaryDirectory { dir in
            let data = dataset(count: 100)
            try data.write(dir + "/d.h5", inputs: [])
            try FeatureExtraction.run(dataset: dir + "/d.h5", model: .pcaFit(components: 4), whiten: true, normalize: true, output: dir + "/fit.h5")
            try FeatureExtraction.run(dataset: dir + "/d.h5", model: .pcaFrom(path: dir + "/fit.h5"), whiten: true, normalize: true, output: dir + "/again.h5")
            let fit = try Features.read(dir + "/fit.h5"), again = try Features.read(dir + "/again.h5")
            #expect(fit.dimension == 4 && fit.normalized && fit.labels == data.labels)
            #expect(zip(fit.values, again.values).allSatisfy { abs($0 - $1) < 1e-4 })
            #expect(try H5File.open(dir + "/fit.h5").stringAttribute("model") == "pca:4")
        }
    }

    @Test func parsesModelNames() throws {
        #expect(try FeatureModel.parse("pixels") == .pixels)
        #expect(try FeatureModel.parse("pca:64") == .pcaFit(components: 64))
        #expect(try FeatureModel.parse("pca:train.h5") == .pcaFrom(path: "train.h5"))
        #expect(throws: MTError.self) { try FeatureModel.parse("pca:") }
        #expect(throws: MTError.self) { try FeatureModel.parse("resnet") }
    }

    @Test func pcaRefusesTooManyComponents() {
        var matrix = PixelFeatures.matrix(dataset(count: 5))
        #expect(throws: MTError.self) { try PCAProjection.fit(&matrix, rows: 5, dimension: 9, components: 10, whiten: true) }
    }
}

@Suite struct SplitTests {
    let labels: [Int32] = (0..<300).map { $0 % 7 == 0 ? -1 : Int32($0 % 3) }

    @Test func perClassDrawsExactlyNOfEachKnownClass() throws {
        let split = try LabeledSplit.draw(labels: labels, classCount: 3, rule: .perClass(5), seed: 4).split
        #expect(split.labeled.count == 15)
        for c in 0..<3 { #expect(split.labeledLabels.filter { $0 == Int32(c) }.count == 5) }
        #expect(split.labeled.allSatisfy { labels[$0] >= 0 })
        #expect(zip(split.labeled, split.labeledLabels).allSatisfy { labels[$0] == $1 })
        #expect(Set(split.labeled).isDisjoint(with: split.unlabeled))
        #expect((split.labeled + split.unlabeled).sorted() == Array(0..<300))
    }

    @Test func theSeedDecidesTheDraw() throws {
        let a = try LabeledSplit.draw(labels: labels, classCount: 3, rule: .perClass(5), seed: 4).split
        let b = try LabeledSplit.draw(labels: labels, classCount: 3, rule: .perClass(5), seed: 4).split
        let c = try LabeledSplit.draw(labels: labels, classCount: 3, rule: .perClass(5), seed: 5).split
        #expect(a == b && a.labeled != c.labeled)
    }

    @Test func totalDrawsNKnownSamples() throws {
        let split = try LabeledSplit.draw(labels: labels, classCount: 3, rule: .total(40), seed: 0).split
        #expect(split.labeled.count == 40 && split.labeled.allSatisfy { labels[$0] >= 0 })
        #expect(throws: MTError.self) { try LabeledSplit.draw(labels: labels, classCount: 3, rule: .total(300), seed: 0).split }
    }
}
