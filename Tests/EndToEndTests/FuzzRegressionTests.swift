import Foundation
import Testing
import TestSupport

/// Replays every saved fuzzer input (Tests/Fuzz/regressions/TARGET/, crashes once found by Tests/Fuzz/run.sh
/// and then fixed, plus edge cases such as the empty file) through its reader: each must be refused or read,
/// never crash.
@Suite struct FuzzRegressionTests {
    @Test(arguments: ["idx", "cifar", "png", "artifact"])
    func savedInputsNoLongerCrash(target: String) throws {
        let folder = TestSupport.repositoryRoot + "/Tests/Fuzz/regressions/" + target
        let files = TestSupport.files(in: folder).map { folder + "/" + $0 }
        #expect(!files.isEmpty, "no regression inputs for \(target)")
        // One process per input: some of them corrupt libhdf5's memory (Tests/Fuzz/libhdf5/README.md), which
        // a later file in the same process can trip over.
        for file in files {
            let run = try TestSupport.execute(TestSupport.binDirectory + "/mt-fuzz", [target, file])
            #expect(run.status == 0, "\(target) \(file): \(run.stderr.prefix(300))")
        }
    }
}
