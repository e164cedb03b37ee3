import Foundation
import MTAlgorithms
import MTCore
import MTNetwork
import MTStorage

/// `mt-train ssl`: labelled samples (a split's, and/or a selection's pseudo-labels as the labelled set)
/// plus every other image of the data set as unlabelled, one of the semi-supervised methods on the shared
/// training loop. With a weight average the saved model (and the per-epoch test accuracy) is the average.
public enum SemiSupervisedRun {
    /// `inputs.selection` is `--labeled-from`: its pseudo-labels join the labelled set.
    public static func run(_ inputs: ClassifierRun.Inputs, options requested: SemiSupervisedOptions) throws {
        let sources = [inputs.dataset, inputs.split, inputs.selection, inputs.initFrom, inputs.evaluation].compactMap { $0 }
        try OutputPath.check(inputs.output, inputs: sources)
        guard inputs.split != nil || inputs.selection != nil else {
            throw MTError.usage("give the labelled set: --split SPLIT and/or --labeled-from SELECTION")
        }
        let dataset = try ImageDataset.read(inputs.dataset)
        var options = requested
        let augmentation = try TrainingRun.augmentation(options.augmentation, for: dataset)
        options.augmentation = augmentation.rawValue
        let labeled = try ClassifierRun.trainingSet(dataset, split: inputs.split, selection: inputs.selection)
        let classes = dataset.classCount
        if let bad = labeled.labels.first(where: { $0 < 0 || Int($0) >= classes }) {
            throw MTError.badInput(inputs.selection ?? inputs.split ?? inputs.dataset, "/labels", "expected labels in 0..<\(classes), found \(bad)")
        }
        let taken = Set(labeled.indices)
        let unlabeled = (0..<dataset.count).filter { !taken.contains($0) }
        guard !unlabeled.isEmpty else {
            throw MTError.badInput(inputs.dataset, nil, "expected unlabelled images beside the \(labeled.indices.count) labelled ones, found none")
        }
        let arch = try TrainingRun.architecture(options.arch)
        let resumed = try TrainingRun.resumable(inputs.output, resume: inputs.resume, options: options)
        // The file `resumable` continued (the partial one when it exists), named in errors about its state.
        let source = [Checkpoint.partialPath(of: inputs.output), inputs.output].first(where: fileExists) ?? inputs.output
        let student: Network
        var average: WeightAverage?
        if let resumed {
            if options.averageDecay > 0 {
                let restored = try SemiSupervisedObjective.restoreStudent(resumed, source: source)
                student = restored.student
                average = WeightAverage(restored: restored.average, decay: options.averageDecay)
            } else {
                student = resumed.network
            }
        } else {
            student = try ClassifierRun.startingNetwork(arch, dataset: dataset, classes: classes, initFrom: inputs.initFrom,
                                                        seed: options.optimizer.seed)
            if options.averageDecay > 0 { average = WeightAverage(of: student, decay: options.averageDecay) }
        }
        let weak = ImageBatcher(dataset: dataset, mean: student.inputMean, std: student.inputStd, augmentation: augmentation)
        let strong = ImageBatcher(dataset: dataset, mean: student.inputMean, std: student.inputStd, augmentation: augmentation,
                                  randAugment: .forAugmentation(augmentation))
        let objective = try options.makeObjective(labeled: labeled, unlabeled: unlabeled, weak: weak, strong: strong, network: student,
                                                  average: average, resume: resumed.map { ($0.trainingState, source) })
        let trainer = try Trainer(network: student, objective: objective, settings: options.optimizer, resume: resumed)
        objective.totalSteps = trainer.totalSteps
        let evaluation = try inputs.evaluation.map { try ImageDataset.read($0) }
        let trainingInputs = [inputs.dataset, inputs.split, inputs.selection, inputs.initFrom].compactMap { $0 }
        if try TrainingRun.finishedAlready(trainer, arguments: options.json, classNames: dataset.classNames,
                                           output: inputs.output, inputs: trainingInputs) { return }
        Console.note("\(options.method.rawValue) (\(options.method.paper)): \(arch.rawValue) on \(labeled.indices.count) labelled and "
                     + "\(unlabeled.count) unlabelled images, \(trainer.totalSteps) steps of \(options.optimizer.batchSize) + "
                     + "\(options.unlabeledRatio * options.optimizer.batchSize)")
        let start = Date()
        try TrainingRun.train(trainer, arguments: options.json, classNames: dataset.classNames, output: inputs.output,
                              inputs: trainingInputs) { network in
            let line = String(format: " mask %.2f", objective.maskRate)
            guard let evaluation else { return line }
            return line + TrainingRun.testAccuracy(objective.evaluated(network), on: evaluation)
        }
        Console.note(String(format: "wrote %@ (%.1fs)", inputs.output, Date().timeIntervalSince(start)))
    }
}
