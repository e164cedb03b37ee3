import Foundation
import MTCore
import MTStorage
import Testing
import TestSupport

/// Files written by h5py/numpy feed the tools, and the tools' files read back in h5py as FORMATS.md says.
@Suite struct InteropTests {
    @Test(.needsPython) func h5pyReadsOurArtifactsAsDocumented() throws {
        let python = try #require(TestSupport.pythonWithH5py)
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

    @Test(.needsPython) func numpyFilesFeedTheTools() throws {
        let python = try #require(TestSupport.pythonWithH5py)
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

            // The same hand-made features feed mt-knn, whose graph h5py reads back.
            let graph = try TestSupport.run("mt-knn", ["graph", dir + "/mine.h5", "-k", "4", "-o", dir + "/graph.h5"])
            #expect(graph.status == 0, "\(graph.stderr)")
            let check = """
            import h5py, numpy as np
            x = h5py.File('\(dir)/mine.h5')['features'][:].astype(np.float32)
            g = h5py.File('\(dir)/graph.h5')
            s = x @ x.T
            np.fill_diagonal(s, -np.inf)
            best = np.sort(s, axis=1)[:, ::-1][:, :4]
            assert g['neighbors'].dtype == np.int32 and g['neighbors'].shape == (30, 4)
            assert np.allclose(g['similarities'][:], best, atol=1e-4)
            print('ok')
            """
            let checked = try TestSupport.runPython(python, check)
            #expect(checked.status == 0 && checked.stdout == "ok\n", "\(checked.stderr)")
        }
    }

    @Test(.needsMNIST, .needsPython) func h5pyReadsPseudoLabelsAndSelectionsAsMtEvalDoes() throws {
        let python = try #require(TestSupport.pythonWithH5py)
        let dataset = try TestSupport.mnistTrain(limit: 1500)
        try TestSupport.withTemporaryDirectory { dir in
            try dataset.write(dir + "/train.h5", inputs: [])
            for arguments in [["mt-features", "extract", dir + "/train.h5", "--model", "pca:30", "-o", dir + "/f.h5"],
                              ["mt-select", "split", dir + "/train.h5", "--per-class", "5", "-o", dir + "/s.h5"],
                              ["mt-knn", "propagate", dir + "/f.h5", "--split", dir + "/s.h5", "-o", dir + "/p.h5"],
                              ["mt-select", "pseudo", dir + "/p.h5", "--ratio", "0.3", "-o", dir + "/sel.h5"],
                              ["mt-eval", "pseudo", dir + "/p.h5", dir + "/sel.h5", "--truth", dir + "/train.h5", "--json", dir + "/e.json"]] {
                let run = try TestSupport.run(arguments[0], Array(arguments.dropFirst()))
                #expect(run.status == 0, "\(arguments): \(run.stderr)")
            }
            // Accuracy on the unlabelled samples, and on the pseudo-labelled part of the selection, from the
            // files alone as FORMATS.md describes them, must equal what mt-eval reports.
            let script = """
            import h5py, json, numpy as np
            truth = h5py.File('\(dir)/train.h5')['labels'][:]
            p = h5py.File('\(dir)/p.h5')
            unlabeled = np.setdiff1d(np.arange(len(truth)), p['labeled'][:])
            assert np.allclose(p['probs'][:].sum(1), 1, atol=1e-4)
            acc_pseudo = (p['labels'][:][unlabeled] == truth[unlabeled]).mean()
            s = h5py.File('\(dir)/sel.h5')
            k = int(s.attrs['num_labeled'])
            index, labels = s['index'][k:], s['labels'][k:]
            acc_selection = (labels == truth[index]).mean()
            runs = json.load(open('\(dir)/e.json'))['runs']
            assert abs(runs[0]['scalars']['accuracy'] - acc_pseudo) < 1e-9, (runs[0]['scalars'], acc_pseudo)
            assert abs(runs[1]['scalars']['accuracy'] - acc_selection) < 1e-9, (runs[1]['scalars'], acc_selection)
            print('ok')
            """
            let result = try TestSupport.runPython(python, script)
            #expect(result.status == 0 && result.stdout == "ok\n", "\(result.stderr)")
        }
    }

    /// A user's torchvision-layout ResNet-50 state_dict (random weights and batchnorm statistics here: no
    /// weights can be downloaded) goes through torch2h5.py, then `mt-features extract --norm imagenet` on
    /// photos imported from PNG files gives PyTorch's penultimate features and logits (float64 reference).
    @Test(.needsTorch, .needsPillow) func torchvisionResNet50ConvertsAndEmbedsAsPyTorch() throws {
        let python = try #require(TestSupport.pythonWithTorch)
        let tools = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("pipelines/tools").path
        try TestSupport.withTemporaryDirectory { dir in
            let make = """
            import os, sys, numpy as np, torch
            from PIL import Image
            sys.path.insert(0, '\(tools)')
            from torch_models import resnet50
            torch.manual_seed(3)
            model = resnet50(out_dim=1000)
            for name, buffer in model.named_buffers():
                if name.endswith('running_mean'): buffer.uniform_(-0.1, 0.1)
                if name.endswith('running_var'): buffer.uniform_(0.5, 1.5)
            torch.save(model.state_dict(), '\(dir)/r50.pth')
            os.makedirs('\(dir)/photos')
            rng = np.random.default_rng(0)
            for i in range(3):
                Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(f'\(dir)/photos/{i}.png')
            print('ok')
            """
            let made = try TestSupport.runPython(python, make)
            try #require(made.status == 0, "\(made.stderr)")
            let convert = try TestSupport.execute(python, [tools + "/torch2h5.py", "to-h5", dir + "/r50.pth", "--arch", "resnet50",
                                                           "--mean", "0", "0", "0", "-o", dir + "/r50.h5"])
            try #require(convert.status == 0, "\(convert.stderr)")
            let imported = try TestSupport.run("mt-features", ["import", "images", dir + "/photos", "--labels", "none", "-q", "-o", dir + "/photos.h5"])
            try #require(imported.status == 0, "\(imported.stderr)")
            for layer in ["penultimate", "output"] {
                let extracted = try TestSupport.run("mt-features", ["extract", dir + "/photos.h5", "--model", dir + "/r50.h5", "--layer", layer,
                                                                    "--norm", "imagenet", "--no-normalize", "-q", "-o", dir + "/\(layer).h5"])
                try #require(extracted.status == 0, "\(extracted.stderr)")
            }
            let compare = """
            import sys, h5py, numpy as np, torch
            sys.path.insert(0, '\(tools)')
            from torch_models import resnet50
            model = resnet50(out_dim=1000).double()
            model.load_state_dict(torch.load('\(dir)/r50.pth'))
            model.eval()
            with h5py.File('\(dir)/photos.h5') as f:
                x = torch.from_numpy(f['images'][:].astype(np.float64).transpose(0, 3, 1, 2) / 255)  # stored [N, H, W, C]
            mean = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float64).view(1, 3, 1, 1)
            std = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float64).view(1, 3, 1, 1)
            x = (x - mean) / std
            with torch.no_grad():
                expected = {'penultimate': model.embed(x).numpy(), 'output': model(x).numpy()}
            for layer, reference in expected.items():
                with h5py.File(f'\(dir)/{layer}.h5') as f:
                    got = f['features'][:]
                    assert got.shape == reference.shape, (layer, got.shape, reference.shape)
                    error = np.abs(got - reference).max() / np.abs(reference).max()
                    assert error < 1e-4, (layer, error)
                    print(layer, got.shape[1], '%.1e' % error)
            with h5py.File('\(dir)/r50.h5') as f:
                assert list(f['input/mean'][:]) == [0, 0, 0], 'the stored mean is the one --norm replaced'
            """
            let result = try TestSupport.runPython(python, compare)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        }
    }
}
