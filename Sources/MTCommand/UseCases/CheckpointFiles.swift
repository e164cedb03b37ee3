import Foundation
import MTCore
import MTNetwork
import MTStorage

extension Checkpoint {
    /// Reads a checkpoint artifact and builds its network (every key and shape checked), complete or not
    /// (what `--resume` continues).
    static func load(_ path: String) throws -> Checkpoint {
        try Checkpoint(restoring: CheckpointRecord.read(path), source: path)
    }

    /// Reads a trained model: like `load`, but refuses the epoch checkpoint of an unfinished run, which
    /// looks like a model but is not the one that was asked for.
    static func loadTrained(_ path: String) throws -> Checkpoint {
        let checkpoint = try load(path)
        guard checkpoint.isComplete else {
            let output = finalPath(ofPartial: path)
            throw MTError.badInput(path, nil, "is an unfinished training run (complete = 0, stopped after epoch \(checkpoint.epoch), "
                                   + "step \(checkpoint.iteration)); finish it with the same command and --resume: mt-train ... --resume -o \(output)")
        }
        return checkpoint
    }

    /// Writes the checkpoint artifact atomically.
    func save(_ path: String, inputs: [String]) throws {
        try record.write(path, inputs: inputs)
    }

    /// Where a run writing `output` keeps its epoch checkpoints until it is done: `model.h5` ->
    /// `model.partial.h5`, beside it.
    static func partialPath(of output: String) -> String {
        (output.hasSuffix(".h5") ? String(output.dropLast(3)) : output) + ".partial.h5"
    }

    /// The `-o` a partial file belongs to (the inverse of `partialPath`; other names are returned as they are).
    static func finalPath(ofPartial path: String) -> String {
        path.hasSuffix(".partial.h5") ? String(path.dropLast(".partial.h5".count)) + ".h5" : path
    }
}
