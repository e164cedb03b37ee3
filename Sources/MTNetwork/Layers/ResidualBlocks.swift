import MTAlgorithms
import MTCore

/// Elementwise a + b of two same-shaped tensors: the residual add, whose backward hands dy to both.
/// Written in one pass into a fresh tensor (mutating a copy of `a` would first copy it whole).
func residualAdd(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "residual add: shapes \(a.shape) and \(b.shape) differ")
    var sum = Tensor(uninitialized: a.shape)
    sum.data.withUnsafeMutableBufferPointer { s in
        a.data.withUnsafeBufferPointer { x in
            b.data.withUnsafeBufferPointer { y in
                let out = s.baseAddress!, xp = x.baseAddress!, yp = y.baseAddress!
                Parallel.forEachChunk(s.count, minimumChunk: 1 << 16) { range in
                    for i in range { out[i] = xp[i] + yp[i] }
                }
            }
        }
    }
    return sum
}

/// The pre-activation block of WideResNet (Zagoruyko & Komodakis; the reference's `BasicBlock`):
/// out = conv2(drop(relu(bn2(conv1(a))))) + shortcut, a = relu(bn1(x)). When the widths match the
/// shortcut is x itself; otherwise it is the 1x1 strided `convShortcut` applied to a (not x), exactly as the
/// reference does. [N, Cin, H, W] -> [N, Cout, H/stride, W/stride]. Keys: bn1, conv1, bn2, conv2, convShortcut.
public final class WideBasicBlock: Layer {
    let bn1: BatchNorm2d, relu1 = ReLU(), conv1: Conv2d, bn2: BatchNorm2d, relu2 = ReLU(), dropout: Dropout
    let conv2: Conv2d
    let shortcut: Conv2d?

    public init(_ inPlanes: Int, _ outPlanes: Int, stride: Int, dropRate: Float = 0) {
        bn1 = BatchNorm2d(inPlanes)
        conv1 = Conv2d(inPlanes, outPlanes, kernelSize: 3, stride: stride, padding: 1)
        bn2 = BatchNorm2d(outPlanes)
        dropout = Dropout(dropRate)
        conv2 = Conv2d(outPlanes, outPlanes, kernelSize: 3, padding: 1)
        shortcut = inPlanes == outPlanes ? nil : Conv2d(inPlanes, outPlanes, kernelSize: 1, stride: stride)
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let activated = relu1.forward(bn1.forward(input, training: training), training: training)
        var out = relu2.forward(bn2.forward(conv1.forward(activated, training: training), training: training), training: training)
        out = conv2.forward(dropout.forward(out, training: training), training: training)
        return residualAdd(out, shortcut?.forward(activated, training: training) ?? input)
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let inner = bn2.backward(relu2.backward(dropout.backward(conv2.backward(gradOutput))))
        var gradActivated = conv1.backward(inner)
        if let shortcut { gradActivated = residualAdd(gradActivated, shortcut.backward(gradOutput)) }
        let gradInput = bn1.backward(relu1.backward(gradActivated))
        return shortcut == nil ? residualAdd(gradInput, gradOutput) : gradInput
    }

    public func namedParameters() -> [(String, Parameter)] {
        prefixed("bn1", bn1.namedParameters()) + prefixed("conv1", conv1.namedParameters())
            + prefixed("bn2", bn2.namedParameters()) + prefixed("conv2", conv2.namedParameters())
            + (shortcut.map { prefixed("convShortcut", $0.namedParameters()) } ?? [])
    }
}

/// The post-activation block of ResNet-18 (the reference's `resnet_cifar.BasicBlock`, torchvision's
/// `BasicBlock`): out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), the shortcut being identity or
/// a strided 1x1 conv + batchnorm when the shape changes. Keys: conv1, bn1, conv2, bn2, and
/// `shortcutName`.{0,1} (`shortcut` in the reference, `downsample` in torchvision).
public final class ResNetBasicBlock: Layer {
    let conv1: Conv2d, bn1: BatchNorm2d, relu1 = ReLU(), conv2: Conv2d, bn2: BatchNorm2d, reluOut = ReLU()
    let shortcut: Sequential?
    let shortcutName: String

    public init(_ inPlanes: Int, _ planes: Int, stride: Int, shortcutName: String = "shortcut") {
        self.shortcutName = shortcutName
        conv1 = Conv2d(inPlanes, planes, kernelSize: 3, stride: stride, padding: 1)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, padding: 1)
        bn2 = BatchNorm2d(planes)
        shortcut = stride != 1 || inPlanes != planes
            ? Sequential(indexed: [Conv2d(inPlanes, planes, kernelSize: 1, stride: stride), BatchNorm2d(planes)]) : nil
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        var out = relu1.forward(bn1.forward(conv1.forward(input, training: training), training: training), training: training)
        out = bn2.forward(conv2.forward(out, training: training), training: training)
        return reluOut.forward(residualAdd(out, shortcut?.forward(input, training: training) ?? input), training: training)
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let gradSum = reluOut.backward(gradOutput)
        let gradMain = conv1.backward(bn1.backward(relu1.backward(conv2.backward(bn2.backward(gradSum)))))
        return residualAdd(gradMain, shortcut?.backward(gradSum) ?? gradSum)
    }

    public func namedParameters() -> [(String, Parameter)] {
        prefixed("conv1", conv1.namedParameters()) + prefixed("bn1", bn1.namedParameters())
            + prefixed("conv2", conv2.namedParameters()) + prefixed("bn2", bn2.namedParameters())
            + (shortcut.map { prefixed(shortcutName, $0.namedParameters()) } ?? [])
    }
}

/// torchvision's `Bottleneck` (ResNet-50 v1.5: the stride sits on the 3x3 conv):
/// out = relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + downsample(x)), with conv1 1x1
/// [Cin -> planes], conv2 3x3 stride s [planes -> planes], conv3 1x1 [planes -> 4 planes]; downsample is a
/// strided 1x1 conv + batchnorm when the shape changes, else identity. [N, Cin, H, W] ->
/// [N, 4 planes, H/s, W/s]. Keys: conv{1,2,3}, bn{1,2,3}, downsample.{0,1}.
public final class BottleneckBlock: Layer {
    public static let expansion = 4
    let conv1: Conv2d, bn1: BatchNorm2d, relu1 = ReLU()
    let conv2: Conv2d, bn2: BatchNorm2d, relu2 = ReLU()
    let conv3: Conv2d, bn3: BatchNorm2d, reluOut = ReLU()
    let downsample: Sequential?

    public init(_ inPlanes: Int, _ planes: Int, stride: Int) {
        let outPlanes = planes * Self.expansion
        conv1 = Conv2d(inPlanes, planes, kernelSize: 1)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernelSize: 3, stride: stride, padding: 1)
        bn2 = BatchNorm2d(planes)
        conv3 = Conv2d(planes, outPlanes, kernelSize: 1)
        bn3 = BatchNorm2d(outPlanes)
        downsample = stride != 1 || inPlanes != outPlanes
            ? Sequential(indexed: [Conv2d(inPlanes, outPlanes, kernelSize: 1, stride: stride), BatchNorm2d(outPlanes)]) : nil
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        var out = relu1.forward(bn1.forward(conv1.forward(input, training: training), training: training), training: training)
        out = relu2.forward(bn2.forward(conv2.forward(out, training: training), training: training), training: training)
        out = bn3.forward(conv3.forward(out, training: training), training: training)
        return reluOut.forward(residualAdd(out, downsample?.forward(input, training: training) ?? input), training: training)
    }

    public func backward(_ gradOutput: Tensor) -> Tensor {
        let gradSum = reluOut.backward(gradOutput)
        var grad = conv3.backward(bn3.backward(gradSum))
        grad = conv2.backward(bn2.backward(relu2.backward(grad)))
        grad = conv1.backward(bn1.backward(relu1.backward(grad)))
        return residualAdd(grad, downsample?.backward(gradSum) ?? gradSum)
    }

    public func namedParameters() -> [(String, Parameter)] {
        prefixed("conv1", conv1.namedParameters()) + prefixed("bn1", bn1.namedParameters())
            + prefixed("conv2", conv2.namedParameters()) + prefixed("bn2", bn2.namedParameters())
            + prefixed("conv3", conv3.namedParameters()) + prefixed("bn3", bn3.namedParameters())
            + (downsample.map { prefixed("downsample", $0.namedParameters()) } ?? [])
    }
}
