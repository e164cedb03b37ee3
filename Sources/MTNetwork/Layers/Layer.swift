import MTAlgorithms
import MTCore

/// A differentiable building block. `forward` keeps what `backward` needs (so one `backward` follows each
/// training `forward`); `backward` takes d(loss)/d(output), accumulates the gradients of the layer's own
/// parameters into `Parameter.grad`, and returns d(loss)/d(input).
///
/// Layers are classes because they carry state between the two passes; a model is a tree of layers whose
/// parameters are named by their PyTorch `state_dict` keys (see `namedParameters`).
public protocol Layer: AnyObject {
    func forward(_ input: Tensor, training: Bool) -> Tensor
    func backward(_ gradOutput: Tensor) -> Tensor
    /// Parameters and buffers under their PyTorch keys, relative to this layer (e.g. `weight`,
    /// `running_mean`, `0.conv1.weight`), in `state_dict` order.
    func namedParameters() -> [(String, Parameter)]
}

public extension Layer {
    func namedParameters() -> [(String, Parameter)] { [] }
}

/// Prefixes child keys the way PyTorch nests modules: `prefix.key`.
func prefixed(_ prefix: String, _ entries: [(String, Parameter)]) -> [(String, Parameter)] {
    prefix.isEmpty ? entries : entries.map { (prefix + "." + $0.0, $0.1) }
}

/// Layers applied in order, like `nn.Sequential`; each child has the name PyTorch gives it (its index in
/// an `nn.Sequential`, or an attribute name).
public final class Sequential: Layer {
    public private(set) var children: [(name: String, layer: Layer)]

    public init(_ children: [(String, Layer)]) {
        self.children = children.map { (name: $0.0, layer: $0.1) }
    }

    /// Children numbered 0, 1, 2, ... as `nn.Sequential(*layers)` names them.
    public convenience init(indexed layers: [Layer]) {
        self.init(layers.enumerated().map { (String($0.offset), $0.element) })
    }

    /// Input [N, ...] -> output of the last child.
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        children.reduce(input) { $1.layer.forward($0, training: training) }
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        children.reversed().reduce(gradOutput) { $1.layer.backward($0) }
    }

    public func namedParameters() -> [(String, Parameter)] {
        children.flatMap { prefixed($0.name, $0.layer.namedParameters()) }
    }
}
