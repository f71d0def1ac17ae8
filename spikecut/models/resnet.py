"""Residual networks in every role: ResNet-18/20 (He et al., CIFAR stems) and
ResNet-19 (Zheng et al., tdBN), with the residual sum taken before the activation."""

from __future__ import annotations

from collections.abc import Sequence

from spikingjelly.activation_based import layer
from torch import nn

from spikecut.models.kit import LayerKit


class BasicBlock(nn.Module):
    """conv-BN-act-conv-BN, plus the shortcut, then the activation."""

    def __init__(self, c_in: int, c_out: int, stride: int, kit: LayerKit):
        super().__init__()
        self.body = nn.Sequential(
            *kit.conv_bn_act(c_in, c_out, stride), kit.conv(c_out, c_out), kit.bn(c_out)
        )
        self.shortcut = (
            nn.Sequential(kit.conv(c_in, c_out, kernel=1, stride=stride), kit.bn(c_out))
            if stride != 1 or c_in != c_out
            else nn.Identity()
        )
        self.act = kit.act()

    def forward(self, x):
        return self.act(self.body(x) + self.shortcut(x))


def build_resnet(
    input_shape: Sequence[int],
    num_classes: int,
    kit: LayerKit,
    stem: int,
    widths: Sequence[int],
    depths: Sequence[int],
    hidden: Sequence[int] = (),
) -> nn.Sequential:
    """A 3x3 stem of ``stem`` channels, stages of basic blocks (the first of each stage
    after the first halves the resolution), global average pooling, linear head."""
    if len(widths) != len(depths):
        raise ValueError("widths and depths must have one entry per stage")
    c = input_shape[0]
    blocks: list[nn.Module] = kit.conv_bn_act(c, stem)
    c = stem
    for stage, (width, depth) in enumerate(zip(widths, depths)):
        for i in range(depth):
            blocks.append(BasicBlock(c, width, 2 if stage > 0 and i == 0 else 1, kit))
            c = width
    blocks += [layer.AdaptiveAvgPool2d((1, 1), step_mode="m"), layer.Flatten(step_mode="m")]
    for width in hidden:
        blocks += [kit.linear(c, width), kit.act()]
        c = width
    blocks.append(kit.linear(c, num_classes))
    return nn.Sequential(*blocks)


def build_resnet18(input_shape, num_classes, kit):
    return build_resnet(input_shape, num_classes, kit, 64, (64, 128, 256, 512), (2, 2, 2, 2))


def build_resnet19(input_shape, num_classes, kit):
    return build_resnet(
        input_shape, num_classes, kit, 128, (128, 256, 512), (3, 3, 2), hidden=(256,)
    )


def build_resnet20(input_shape, num_classes, kit, widths):
    return build_resnet(input_shape, num_classes, kit, widths[0], widths, (3, 3, 3))
