import MTAlgorithms
import MTCore

/// A network ready to train or run: body (input -> penultimate embedding), linear head, optional row
/// L2 normalisation of the output (the reference's `norm=True`, for metric embeddings), and the per-channel
/// input normalisation that images get before the first layer.
///
/// Every parameter and buffer is reachable under its PyTorch `state_dict` key (`namedParameters`), which is
/// how checkpoints and `torch2h5.py` address them.
public final class Network {
    public let architecture: Architecture
    public let inputChannels: Int
    public let outputDimension: Int
    public let normalizesOutput: Bool
    /// Per-channel mean and std of the input pixels scaled to [0, 1]: x = (pixel / 255 - mean) / std.
    public var inputMean: [Float]
    public var inputStd: [Float]
    public let body: Sequential
    public private(set) var head: Linear
    private let l2 = L2Normalize()

    public init(_ architecture: Architecture, inputChannels: Int, outputDimension: Int, normalizesOutput: Bool = false,
                inputMean: [Float]? = nil, inputStd: [Float]? = nil) {
        self.architecture = architecture
        self.inputChannels = inputChannels
        self.outputDimension = outputDimension
        self.normalizesOutput = normalizesOutput
        self.inputMean = inputMean ?? [Float](repeating: 0, count: inputChannels)
        self.inputStd = inputStd ?? [Float](repeating: 1, count: inputChannels)
        body = architecture.makeBody(inputChannels: inputChannels)
        head = Linear(architecture.embeddingDimension, outputDimension)
    }

    /// Every parameter and buffer under its PyTorch key, in `state_dict` order.
    public func namedParameters() -> [(String, Parameter)] {
        body.namedParameters() + prefixed(architecture.headName, head.namedParameters())
    }

    /// Trainable parameters only (what the optimiser updates).
    public var trainableParameters: [(String, Parameter)] { namedParameters().filter { $0.1.kind == .trainable } }

    /// [N, C, H, W] normalised input -> [N, outputDimension] (L2-normalised rows when `normalizesOutput`).
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let output = head.forward(body.forward(input, training: training), training: training)
        return normalizesOutput ? l2.forward(output, training: training) : output
    }

    /// [N, C, H, W] -> [N, embeddingDimension], the penultimate layer (evaluation mode).
    public func embed(_ input: Tensor) -> Tensor { body.forward(input, training: false) }

    /// Back-propagates d(loss)/d(output) through the last training `forward`, accumulating parameter
    /// gradients; returns d(loss)/d(input).
    @discardableResult
    public func backward(_ gradOutput: Tensor) -> Tensor {
        let gradHead = normalizesOutput ? l2.backward(gradOutput) : gradOutput
        return body.backward(head.backward(gradHead))
    }

    /// `backward` for training steps: accumulates the parameter gradients but lets the first convolution
    /// skip d(loss)/d(images), which no one reads (PyTorch skips it too: inputs do not require grad). For
    /// mnist-cnn that saves a [288, 784] unfolding and a one-row product per image.
    public func backwardParameters(_ gradOutput: Tensor) {
        backwardEmbeddingParameters(head.backward(normalizesOutput ? l2.backward(gradOutput) : gradOutput))
    }

    /// [N, C, H, W] -> [N, embeddingDimension] in training or evaluation mode: the features that heads
    /// beside `head` read (DST's pseudo and worst-case heads, Self-Tuning's projector). Pair with
    /// `backwardEmbeddingParameters`; `head.forward` on the result gives the network's output.
    public func forwardEmbedding(_ input: Tensor, training: Bool) -> Tensor { body.forward(input, training: training) }

    /// Back-propagates d(loss)/d(embedding) [N, embeddingDimension] through the body of the last training
    /// `forwardEmbedding` (or `forward`), accumulating parameter gradients (the images get none).
    public func backwardEmbeddingParameters(_ gradEmbedding: Tensor) {
        var first: Layer = body
        while let sequential = first as? Sequential, let child = sequential.children.first { first = child.layer }
        let convolution = first as? Conv2d
        convolution?.computesInputGradient = false
        defer { convolution?.computesInputGradient = true }
        _ = body.backward(gradEmbedding)
    }

    public func zeroGradients() {
        for (_, parameter) in trainableParameters { parameter.zeroGrad() }
    }

    /// Replaces the head by a fresh one (for finetuning a pretrained body on new classes).
    public func replaceHead(outputDimension: Int, seed: UInt64) -> Network {
        let network = Network(architecture, inputChannels: inputChannels, outputDimension: outputDimension,
                              normalizesOutput: false, inputMean: inputMean, inputStd: inputStd)
        for ((_, target), (_, source)) in zip(network.body.namedParameters(), body.namedParameters()) {
            target.value = source.value
        }
        network.initializeHead(seed: seed)
        return network
    }
}
