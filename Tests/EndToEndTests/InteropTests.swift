import Foundation
import Shared
import Testing
import TestSupport

/// Files written by h5py/numpy feed the tools, and the tools' files read back in h5py as FORMATS.md says.
@Suite struct InteropTests {
    @Test func h5pyReadsOurArtifactsAsDocumented() throws {
        guard let python = TestSupport.pythonWithH5py else { return }
        try TestSupport.withTemporaryDirectory { dir in
            let dataset = ImageDataset(images: [UInt8](0..<24), count: 2, height: 2, width: 3, channels: 2,
                                       labels: [1, -1], classNames: ["zero", "one"], name: "tiny")
            try dataset.write(dir + "/d.h5", inputs: ["src"])
            let split = Split(labeled: [0], labeledLabels: [1], unlabeled: [1], sampleCount: 2, classCount: 2)
            try split.write(dir + "/s.h5", inputs: [dir + "/d.h5"], attributes: ["seed": .int(7)])
            let script = """
            import h5py, numpy as np
            with h5py.File('\(dir)/d.h5') as f:
                assert f.attrs['mt_kind'] == 'dataset' and f.attrs['mt_format_version'] == 1
                assert f['images'].dtype == np.uint8 and f['images'].shape == (2, 2, 3, 2)
                assert f['images'][1, 0, 0, 0] == 12
                assert f['labels'].dtype == np.int32 and list(f['labels'][:]) == [1, -1]
                assert [s.decode() if isinstance(s, bytes) else s for s in f['class_names'][:]] == ['zero', 'one']
                assert list(f.attrs['mt_inputs']) == ['src'] and f.attrs['name'] == 'tiny'
            with h5py.File('\(dir)/s.h5') as f:
                assert f['labeled'].dtype == np.int64 and list(f['labeled'][:]) == [0]
                assert f['labeled_labels'].dtype == np.int32 and list(f['unlabeled'][:]) == [1]
                assert f.attrs['num_samples'] == 2 and f.attrs['num_classes'] == 2 and f.attrs['seed'] == 7
            print('ok')
            """
            let result = try TestSupport.runPython(python, script)
            #expect(result.status == 0 && result.stdout == "ok\n", "\(result.stderr)")
        }
    }

    @Test func numpyFilesFeedTheTools() throws {
        guard let python = TestSupport.pythonWithH5py else { return }
        try TestSupport.withTemporaryDirectory { dir in
            // Hand-made features: float64 and int64, no mt attributes, as a user would write them.
            let script = """
            import h5py, numpy as np
            rng = np.random.default_rng(0)
            with h5py.File('\(dir)/mine.h5', 'w') as f:
                f['features'] = rng.normal(size=(30, 5))
                f['labels'] = np.arange(30) % 3
            """
            #expect(try TestSupport.runPython(python, script).status == 0)
            let result = try TestSupport.run("mt-select", ["split", dir + "/mine.h5", "--per-class", "2", "-o", dir + "/split.h5"])
            #expect(result.status == 0, "\(result.stderr)")
            let split = try Split.read(dir + "/split.h5")
            #expect(split.labeled.count == 6 && split.classCount == 3 && split.sampleCount == 30)
            #expect(zip(split.labeled, split.labeledLabels).allSatisfy { Int32($0 % 3) == $1 })
        }
    }
}
