import Foundation
import Testing
import TestSupport
@testable import MTCore
@testable import MTAlgorithms

/// NMI, ARI, purity and the Hungarian accuracy against scikit-learn and scipy (Tests/Fixtures/cluster_reference.py),
/// with more clusters than classes, fewer, and unknown true labels.
@Suite struct ClusteringMetricsTests {
    func reference(_ assignments: [Int32], _ truth: [Int32]) throws -> [String: Double] {
        let python = try #require(TestSupport.pythonWithScikitLearn)
        return try TestSupport.withTemporaryDirectory { dir in
            let fields: [String: Any] = ["assignments": assignments.map(Int.init), "truth": truth.map(Int.init)]
            try JSONSerialization.data(withJSONObject: fields).write(to: URL(fileURLWithPath: dir + "/case.json"))
            let run = try TestSupport.execute(python, [TestSupport.repositoryRoot + "/Tests/Fixtures/cluster_reference.py", dir + "/case.json"])
            #expect(run.status == 0, "\(run.stderr)")
            return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Double])
        }
    }

    @Test(.needsScikitLearn) func metricsMatchScikitLearn() throws {
        var rng = SeededGenerator(seed: 4)
        for (clusters, classes) in [(12, 10), (10, 10), (6, 10), (40, 5)] {
            // Each class mostly in "its" cluster, the rest scattered; a tenth of the truth unknown.
            let truth: [Int32] = (0..<700).map { i in i % 10 == 3 ? -1 : Int32(i % classes) }
            let assignments: [Int32] = truth.enumerated().map { i, label in
                let home = Int(max(label, 0)) * clusters / classes
                return rng.nextUniform() < 0.7 ? Int32(home % clusters) : Int32(Int(rng.next() % UInt64(clusters)))
            }
            let metrics = ClusteringMetrics(assignments: assignments, truth: truth, clusters: clusters, classes: classes)
            let expected = try reference(assignments, truth)
            let name = "\(clusters) clusters, \(classes) classes"
            #expect(metrics.evaluated == truth.filter { $0 >= 0 }.count)
            #expect(abs(metrics.nmi - expected["nmi"]!) < 1e-10, "\(name): NMI \(metrics.nmi) vs \(expected["nmi"]!)")
            #expect(abs(metrics.ari - expected["ari"]!) < 1e-10, "\(name): ARI \(metrics.ari) vs \(expected["ari"]!)")
            #expect(abs(metrics.purity - expected["purity"]!) < 1e-12, "\(name): purity")
            #expect(abs(metrics.hungarianAccuracy - expected["hungarian"]!) < 1e-12, "\(name): Hungarian \(metrics.hungarianAccuracy) vs \(expected["hungarian"]!)")
            // A one-to-one mapping: no class twice.
            let matched = metrics.mapping.filter { $0 >= 0 }
            #expect(Set(matched).count == matched.count && matched.count == min(clusters, classes))
        }
    }

    @Test func aRelabellingIsAPerfectClustering() {
        let truth: [Int32] = [0, 0, 1, 1, 2, 2, -1]
        let metrics = ClusteringMetrics(assignments: [2, 2, 0, 0, 1, 1, 0], truth: truth, clusters: 3, classes: 3)
        #expect(metrics.nmi == 1 && metrics.ari == 1 && metrics.purity == 1 && metrics.hungarianAccuracy == 1)
        #expect(metrics.mapping == [1, 2, 0] && metrics.evaluated == 6)
    }
}
