import MTAlgorithms
import MTCore

/// The networks mt can build, by the names the tools accept (`--arch`).
public enum Architecture: String, CaseIterable, Sendable {
    /// conv3x3 32,32 - maxpool - 64,64 - maxpool - 128 - global avg pool - linear; BN + ReLU after each conv.
    /// For 28x28 digits. Keys: `features.{0,3,7,10,14}` convs, `features.{1,4,8,11,15}` batchnorms, `fc`.
    case mnistCNN = "mnist-cnn"
    /// WideResNet-28-2 as the reference's `lib/models/wideresnet.py`: 16-32-64-128 channels, 4 blocks per
    /// stage, final BN + ReLU + global average pool. Keys: `conv1`, `block{1,2,3}.layer.{0..3}.*`, `bn1`, `fc`.
    case wrn28x2 = "wrn-28-2"
    /// ResNet-18 for 32x32 inputs as the reference's `lib/models/resnet_cifar.py` (3x3 stem, no max-pool).
    /// Keys: `conv1`, `bn1`, `layer{1..4}.{0,1}.*`, `linear`.
    case resnet18CIFAR = "resnet18-cifar"
    /// torchvision's `resnet18` for ImageNet-sized inputs: 7x7 stride-2 stem, 3x3 stride-2 max-pool (padding
    /// 1), BasicBlocks [2, 2, 2, 2]. Keys exactly torchvision's: `conv1`, `bn1`, `layer{1..4}.{i}.*` with
    /// `downsample.{0,1}`, `fc`; so `torchvision.models.resnet18().state_dict()` converts as it is.
    case resnet18 = "resnet18"
    /// torchvision's `resnet50` (v1.5): the same stem, Bottleneck blocks [3, 4, 6, 3] of widths 64-512 x 4.
    /// Keys as torchvision's (`layer{1..4}.{i}.conv{1,2,3}`, `bn{1,2,3}`, `downsample.{0,1}`, `fc`).
    case resnet50 = "resnet50"

    /// Width of the penultimate layer (the embedding `--layer penultimate` returns).
    public var embeddingDimension: Int {
        switch self {
        case .mnistCNN: 128
        case .wrn28x2: 128
        case .resnet18CIFAR, .resnet18: 512
        case .resnet50: 2048
        }
    }

    /// The head's key in the state_dict.
    public var headName: String { self == .resnet18CIFAR ? "linear" : "fc" }

    /// The layers from the input to the penultimate embedding [N, embeddingDimension].
    func makeBody(inputChannels: Int) -> Sequential {
        switch self {
        case .mnistCNN:
            var layers: [Layer] = []
            var channels = inputChannels
            for (index, width) in [32, 32, 64, 64, 128].enumerated() {
                layers += [Conv2d(channels, width, kernelSize: 3, padding: 1), BatchNorm2d(width), ReLU()]
                if index == 1 || index == 3 { layers.append(MaxPool2d(kernelSize: 2)) }
                channels = width
            }
            return Sequential([("features", Sequential(indexed: layers)), ("", GlobalAvgPool())])
        case .wrn28x2:
            let widths = [16, 32, 64, 128], blocks = 4
            var children: [(String, Layer)] = [("conv1", Conv2d(inputChannels, widths[0], kernelSize: 3, padding: 1))]
            for stage in 1...3 {
                let stride = stage == 1 ? 1 : 2
                let layer = Sequential(indexed: (0..<blocks).map {
                    WideBasicBlock($0 == 0 ? widths[stage - 1] : widths[stage], widths[stage], stride: $0 == 0 ? stride : 1)
                })
                children.append(("block\(stage)", Sequential([("layer", layer)])))
            }
            children += [("bn1", BatchNorm2d(widths[3])), ("", ReLU()), ("", GlobalAvgPool())]
            return Sequential(children)
        case .resnet18CIFAR:
            var children: [(String, Layer)] = [("conv1", Conv2d(inputChannels, 64, kernelSize: 3, padding: 1)),
                                               ("bn1", BatchNorm2d(64)), ("", ReLU())]
            var planes = 64
            for (stage, width) in [64, 128, 256, 512].enumerated() {
                let stride = stage == 0 ? 1 : 2
                children.append(("layer\(stage + 1)", Sequential(indexed: [
                    ResNetBasicBlock(planes, width, stride: stride), ResNetBasicBlock(width, width, stride: 1),
                ])))
                planes = width
            }
            children.append(("", GlobalAvgPool()))
            return Sequential(children)
        case .resnet18, .resnet50:
            var children: [(String, Layer)] = [("conv1", Conv2d(inputChannels, 64, kernelSize: 7, stride: 2, padding: 3)),
                                               ("bn1", BatchNorm2d(64)), ("", ReLU()),
                                               ("", MaxPool2d(kernelSize: 3, stride: 2, padding: 1))]
            let bottleneck = self == .resnet50
            var channels = 64
            for (stage, (planes, blocks)) in zip([64, 128, 256, 512], bottleneck ? [3, 4, 6, 3] : [2, 2, 2, 2]).enumerated() {
                let layers: [Layer] = (0..<blocks).map { index in
                    let stride = index == 0 && stage > 0 ? 2 : 1
                    defer { channels = bottleneck ? planes * BottleneckBlock.expansion : planes }
                    return bottleneck ? BottleneckBlock(channels, planes, stride: stride)
                                      : ResNetBasicBlock(channels, planes, stride: stride, shortcutName: "downsample")
                }
                children.append(("layer\(stage + 1)", Sequential(indexed: layers)))
            }
            children.append(("", GlobalAvgPool()))
            return Sequential(children)
        }
    }
}
