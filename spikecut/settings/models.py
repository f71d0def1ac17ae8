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
    channels: tuple[PositiveInt, ...] = Field((16, 32), min_length=1)
    input_pool: PositiveInt = Field(1, description="average-pool large event frames first")
    min_pool_size: PositiveInt = 4

    def check_input(self, shape):
        return _pooled(shape, 0, self.name, self.input_pool)


class VGG16(_Model):
    name: Literal["vgg16"]
    hidden: tuple[PositiveInt, ...] = (4096, 4096)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)

    def poolings(self):
        return 5


class VGGSNN(_Model):
    name: Literal["vggsnn"]
    dropout: float = Field(0.0, ge=0.0, lt=1.0)

    def poolings(self):
        return 4


class DVSVGG(_Model):
    name: Literal["dvs_vgg"]
    blocks: PositiveInt = 5
    width: PositiveInt = 128
    hidden: tuple[PositiveInt, ...] = (512,)
    dropout: float = Field(0.5, ge=0.0, lt=1.0)

    def poolings(self):
        return self.blocks


class ResNet18(_Model):
    name: Literal["resnet18"]


class ResNet19(_Model):
    name: Literal["resnet19"]


class ResNet20(_Model):
    name: Literal["resnet20"]
    widths: tuple[PositiveInt, PositiveInt, PositiveInt] = (16, 32, 64)


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
