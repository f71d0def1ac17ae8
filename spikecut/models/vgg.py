"""VGG-style networks: VGG-16 for frame data, VGGSNN and a VGG-like net for event data.

Layouts, as lists of widths with "P" for a 2x pooling:
- VGG-16 (Simonyan & Zisserman; the CIFAR variant used by QCFS): 13 convolutions in five
  pooled stages, then a classifier of two hidden layers.
- VGGSNN (Deng et al., TET): 64, 128, P, 256, 256, P, 512, 512, P, 512, 512, P, then one
  linear layer; used on 48x48 CIFAR10-DVS.
- ``dvs_vgg``: the PLIF-style stack used for DVS128 Gesture and N-Caltech101 style
  inputs: blocks of 128 channels each followed by pooling, then a hidden layer.
"""

from __future__ import annotations

from collections.abc import Sequence

from spikingjelly.activation_based import layer
from torch import nn

from spikecut.models.kit import LayerKit

VGG16 = (64, 64, "P", 128, 128, "P", 256, 256, 256, "P", 512, 512, 512, "P", 512, 512, 512, "P")
VGGSNN = (64, 128, "P", 256, 256, "P", 512, 512, "P", 512, 512, "P")


def _features(
    layout: Sequence, c: int, h: int, w: int, kit: LayerKit
) -> tuple[list[nn.Module], int, int, int]:
    blocks: list[nn.Module] = []
    for item in layout:
        if item == "P":
            blocks.append(kit.pool())
            h, w = h // 2, w // 2
        else:
            blocks += kit.conv_bn_act(c, int(item))
            c = int(item)
    if h < 1 or w < 1:
        raise ValueError("the input is too small for this many pooling stages")
    return blocks, c, h, w


def _classifier(
    features: int, hidden: Sequence[int], num_classes: int, kit: LayerKit, dropout: float
) -> list[nn.Module]:
    blocks: list[nn.Module] = [layer.Flatten(step_mode="m")]
    for width in hidden:
        blocks += [kit.linear(features, width), kit.act()]
        if dropout > 0:
            blocks.append(layer.Dropout(dropout, step_mode="m"))
        features = width
    blocks.append(kit.linear(features, num_classes))
    return blocks


def build_vgg(
    input_shape: Sequence[int],
    num_classes: int,
    kit: LayerKit,
    layout: Sequence,
    hidden: Sequence[int],
    dropout: float,
) -> nn.Sequential:
    c, h, w = input_shape
    features, c, h, w = _features(layout, c, h, w, kit)
    return nn.Sequential(*features, *_classifier(c * h * w, hidden, num_classes, kit, dropout))


def build_vgg16(input_shape, num_classes, kit, hidden, dropout):
    return build_vgg(input_shape, num_classes, kit, VGG16, hidden, dropout)


def build_vggsnn(input_shape, num_classes, kit):
    # no hidden layer, so no dropout to set: a dropout key would change nothing
    return build_vgg(input_shape, num_classes, kit, VGGSNN, (), 0.0)


def build_dvs_vgg(
    input_shape, num_classes, kit, blocks: int, width: int, hidden: Sequence[int], dropout: float
):
    layout = [item for _ in range(blocks) for item in (width, "P")]
    return build_vgg(input_shape, num_classes, kit, layout, hidden, dropout)
