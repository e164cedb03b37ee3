import MTCore
import MTNetwork
import MTStorage

extension Checkpoint {
    /// Reads a checkpoint artifact and builds its network (every key and shape checked).
    static func load(_ path: String) throws -> Checkpoint {
        try Checkpoint(restoring: CheckpointRecord.read(path), source: path)
    }

    /// Writes the checkpoint artifact atomically.
    func save(_ path: String, inputs: [String]) throws {
        try record.write(path, inputs: inputs)
    }
}
