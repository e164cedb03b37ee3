"""PyTorch definitions of mt's architectures, with the same state_dict keys as mt's checkpoints.

mnist-cnn is mt's own small network; wrn-28-2 and resnet18-cifar follow the layer structure and key names
of the reference implementation (microsoft/metric-transfer.pytorch, lib/models/), so its released weights
load into them and into mt; resnet18 and resnet50 are torchvision's (torchvision.models.resnet), written
out here so that no torchvision install is needed, with its module names. Used by torch2h5.py, Tests/Fixtures/make_torch_fixtures.py and
bench/network_peer.py.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class MnistCNN(nn.Module):
    def __init__(self, out_dim=10, in_channels=1, norm=False):
        super().__init__()
        layers, c = [], in_channels
        for i, width in enumerate([32, 32, 64, 64, 128]):
            layers += [conv3x3(c, width), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            if i in (1, 3):
                layers.append(nn.MaxPool2d(2))
            c = width
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(128, out_dim)
        self.norm = norm

    def embed(self, x):
        return F.adaptive_avg_pool2d(self.features(x), 1).flatten(1)

    def forward(self, x):
        out = self.fc(self.embed(x))
        return F.normalize(out, dim=1) if self.norm else out


class WideBlock(nn.Module):
    """Pre-activation block; the 1x1 shortcut (when widths differ) sees the activated input."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = conv3x3(cin, cout, stride)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = conv3x3(cout, cout)
        self.same = cin == cout
        if not self.same:
            self.convShortcut = nn.Conv2d(cin, cout, 1, stride=stride, bias=False)

    def forward(self, x):
        a = F.relu(self.bn1(x))
        out = self.conv2(F.relu(self.bn2(self.conv1(a))))
        return out + (x if self.same else self.convShortcut(a))


class Stage(nn.Module):
    def __init__(self, blocks):
        super().__init__()
        self.layer = nn.Sequential(*blocks)

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, out_dim=10, depth=28, widen=2, in_channels=3, norm=False):
        super().__init__()
        n = (depth - 4) // 6
        w = [16, 16 * widen, 32 * widen, 64 * widen]
        self.conv1 = conv3x3(in_channels, w[0])
        self.block1 = Stage([WideBlock(w[0] if i == 0 else w[1], w[1], 1) for i in range(n)])
        self.block2 = Stage([WideBlock(w[1] if i == 0 else w[2], w[2], 2 if i == 0 else 1) for i in range(n)])
        self.block3 = Stage([WideBlock(w[2] if i == 0 else w[3], w[3], 2 if i == 0 else 1) for i in range(n)])
        self.bn1 = nn.BatchNorm2d(w[3])
        self.fc = nn.Linear(w[3], out_dim)
        self.norm = norm

    def embed(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        return F.adaptive_avg_pool2d(F.relu(self.bn1(out)), 1).flatten(1)

    def forward(self, x):
        out = self.fc(self.embed(x))
        return F.normalize(out, dim=1) if self.norm else out


class ResBlock(nn.Module):
    """The post-activation basic block; the reference names its shortcut `shortcut`, torchvision `downsample`
    (an identity shortcut holds no parameters either way)."""

    def __init__(self, cin, planes, stride, shortcut_name="shortcut"):
        super().__init__()
        self.conv1 = conv3x3(cin, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut_name = shortcut_name
        shortcut = nn.Sequential()
        if stride != 1 or cin != planes:
            shortcut = nn.Sequential(nn.Conv2d(cin, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes))
        setattr(self, shortcut_name, shortcut)

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + getattr(self, self.shortcut_name)(x))


class ResNet18(nn.Module):
    def __init__(self, out_dim=128, in_channels=3, norm=False):
        super().__init__()
        self.conv1 = conv3x3(in_channels, 64)
        self.bn1 = nn.BatchNorm2d(64)
        layers, c = [], 64
        for i, width in enumerate([64, 128, 256, 512]):
            stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", nn.Sequential(ResBlock(c, width, stride), ResBlock(width, width, 1)))
            c = width
        self.linear = nn.Linear(512, out_dim)
        self.norm = norm

    def embed(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return F.adaptive_avg_pool2d(out, 1).flatten(1)

    def forward(self, x):
        out = self.linear(self.embed(x))
        return F.normalize(out, dim=1) if self.norm else out


def TorchvisionBasicBlock(cin, planes, stride):
    """torchvision.models.resnet.BasicBlock: the same block, its shortcut named `downsample`."""
    return ResBlock(cin, planes, stride, shortcut_name="downsample")


class TorchvisionBottleneck(nn.Module):
    """torchvision.models.resnet.Bottleneck (v1.5: the stride on the 3x3 conv), expansion 4."""

    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = None
        if stride != 1 or cin != planes * 4:
            self.downsample = nn.Sequential(nn.Conv2d(cin, planes * 4, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(planes * 4))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class TorchvisionResNet(nn.Module):
    """torchvision.models.resnet18 / resnet50 with the same module names, so their state_dict keys (and
    the ImageNet weights a user has) load unchanged: conv1, bn1, layer1-4, fc (maxpool, avgpool hold none)."""

    def __init__(self, block, blocks, out_dim=1000, in_channels=3, norm=False):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        c = 64
        expansion = 4 if block is TorchvisionBottleneck else 1
        for i, (planes, count) in enumerate(zip([64, 128, 256, 512], blocks)):
            layers = []
            for j in range(count):
                layers.append(block(c, planes, 2 if j == 0 and i > 0 else 1))
                c = planes * expansion
            setattr(self, f"layer{i + 1}", nn.Sequential(*layers))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, out_dim)
        self.norm = norm

    def embed(self, x):
        out = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.avgpool(out).flatten(1)

    def forward(self, x):
        out = self.fc(self.embed(x))
        return F.normalize(out, dim=1) if self.norm else out


def resnet18(out_dim=1000, in_channels=3, norm=False):
    return TorchvisionResNet(TorchvisionBasicBlock, [2, 2, 2, 2], out_dim, in_channels, norm)


def resnet50(out_dim=1000, in_channels=3, norm=False):
    return TorchvisionResNet(TorchvisionBottleneck, [3, 4, 6, 3], out_dim, in_channels, norm)


ARCHITECTURES = {"mnist-cnn": MnistCNN, "wrn-28-2": WideResNet, "resnet18-cifar": ResNet18,
                 "resnet18": resnet18, "resnet50": resnet50}


def build(arch, out_dim, in_channels, norm=False):
    return ARCHITECTURES[arch](out_dim=out_dim, in_channels=in_channels, norm=norm)
