import Foundation

/// Training options stored in a checkpoint's `args` attribute: JSON with sorted keys, so that `--resume`
/// can compare a run's options with the stored ones as text.
public protocol TrainingArguments: Codable {}

extension TrainingArguments {
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
