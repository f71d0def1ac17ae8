"""The architectures a config can name, each with the options it takes and the smallest
input it can take, so that a bad model setting fails before any job runs. The builders
in :mod:`spikecut.models` take exactly these options."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, PositiveInt

from spikecut.settings import base
from spikecut.settings.base import Strict


class _Model(Strict):
    norm: Literal["bn", "tebn"] = Field(
        "bn", description="tebn: temporal effective batch norm, BPTT only"
    )
    pool: Literal["max", "avg"] | None = Field(
        None, description="default by role: max, avg for QCFS"
    )

    def options(self) -> dict:
        """The builder's own keyword arguments."""
        return self.model_dump(exclude={"name", "norm", "pool"})

    def check_input(self, shape: tuple[int, ...]) -> str | None:
        """Why an input of ``shape`` (C, H, W) is too small, or None."""
        return _pooled(shape, self.poolings(), self.name)

    def poolings(self) -> int:
        """How many times the model halves the input before its head."""
        return 0


def _pooled(shape: tuple[int, ...], halvings: int, name: str, first: int = 1) -> str | None:
    h, w = shape[1] // first, shape[2] // first
    if min(h, w) < 2**halvings or min(h, w) < 1:
        return (
            f"{name} halves its input {halvings} times after pooling it by {first}; "
            f"a {shape[1]}x{shape[2]} input leaves nothing (it needs at least "
            f"{2**halvings * first} pixels a side)"
        )
    return None


class ConvSNN(_Model):
    """Conv-BN-activation blocks, pooling while the map stays at least min_pool_size."""

    name: Literal["convsnn"]
    channels: tuple[PositiveInt, ...] = Field(
        (16, 32), min_length=1, description="one 3x3 convolution block per entry"
    )
    input_pool: PositiveInt = Field(1, description="average-pool large event frames first")
    min_pool_size: PositiveInt = Field(4, description="no pooling below this map size")

    def check_input(self, shape):
        return _pooled(shape, 0, self.name, self.input_pool)


class VGG16(_Model):
    """13 convolutions in five pooled stages (the CIFAR VGG-16 of QCFS), then a
    classifier."""

    name: Literal["vgg16"]
    hidden: tuple[PositiveInt, ...] = Field((4096, 4096), description="the classifier's widths")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="after each hidden layer")

    def poolings(self):
        return 5


class VGGSNN(_Model):
    """TET's VGGSNN for 48x48 CIFAR10-DVS: eight convolutions, four poolings, one linear
    layer."""

    name: Literal["vggsnn"]

    def poolings(self):
        return 4


class DVSVGG(_Model):
    """The VGG-style event network of DVS128 Gesture and N-Caltech101: pooled blocks of
    equal width, then a hidden layer."""

    name: Literal["dvs_vgg"]
    blocks: PositiveInt = Field(5, description="convolution blocks, each pooling by 2")
    width: PositiveInt = Field(128, description="channels of every block")
    hidden: tuple[PositiveInt, ...] = Field((512,), description="the classifier's widths")
    dropout: float = Field(0.5, ge=0.0, lt=1.0, description="after each hidden layer")

    def poolings(self):
        return self.blocks


class ResNet18(_Model):
    """ResNet-18 with a CIFAR stem."""

    name: Literal["resnet18"]


class ResNet19(_Model):
    """ResNet-19 of tdBN (Zheng et al.), the paper's TET/TEBN network."""

    name: Literal["resnet19"]


class ResNet20(_Model):
    """ResNet-20 for CIFAR: three stages of three basic blocks."""

    name: Literal["resnet20"]
    widths: tuple[PositiveInt, PositiveInt, PositiveInt] = Field(
        (16, 32, 64), description="channels of the three stages"
    )


ARCHITECTURES: dict[str, type[_Model]] = {
    cls.model_fields["name"].annotation.__args__[0]: cls
    for cls in (ConvSNN, VGG16, VGGSNN, DVSVGG, ResNet18, ResNet19, ResNet20)
}
base._TAGS.update(ARCHITECTURES)

ModelConfig = Annotated[
    ConvSNN | VGG16 | VGGSNN | DVSVGG | ResNet18 | ResNet19 | ResNet20, Field(discriminator="name")
]


def merge_model(base_model: dict, override: dict) -> dict:
    """A model block ``override`` applied to ``base_model``: its keys replace the base's,
    and naming another architecture starts from that architecture's defaults."""
    if "name" in override and override["name"] != base_model.get("name"):
        return dict(override)
    return {**base_model, **override}
