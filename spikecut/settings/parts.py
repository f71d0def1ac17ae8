"""The settings of each part of the library, with their defaults: the one place a
default is written. The workflow's config is made of these blocks
(:mod:`spikecut.settings.workflow`), and the library takes them as they are."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveInt, field_validator

from spikecut.settings.base import NumberString, Strict, unique

POLICY_NAMES = ("timestep", "topk", "confidence", "entropy", "spikecp", "oct")  # all


class NeuronConfig(Strict):
    """The spiking neuron of BPTT models. The defaults are the paper's direct-training
    LIF (SPEC §3): u <- 0.5 u + x (tau = 2, no input decay), V_th = 1, hard reset to 0,
    triangle surrogate of width 1."""

    kind: Literal["lif", "if"] = "lif"
    tau: float = Field(2.0, gt=1.0)
    decay_input: bool = False
    v_threshold: float = Field(1.0, gt=0.0)
    v_reset: float | None = Field(0.0, description="None: soft reset")
    surrogate: Literal["triangle", "sigmoid", "atan"] = "triangle"
    surrogate_width: float = Field(1.0, gt=0.0)
    detach_reset: bool = False
    # auto: CuPy kernels on CUDA where they pass their self-check, else SpikingJelly
    backend: Literal["auto", "torch", "spikingjelly", "cupy"] = "auto"


class QCFSConfig(Strict):
    """The conversion track: the QCFS ANN and the IF SNN it becomes."""

    levels: PositiveInt = Field(4, description="L")
    theta_init: float = Field(8.0, gt=0.0)
    T: int = Field(16, ge=1, le=256, description="steps the converted SNN runs on static data")


class RCSConfig(Strict):
    aggregation: Literal["max", "mean"] = Field(
        "max", description="over the kept samples of a layer"
    )
    tail_fraction: float = Field(
        0.3, gt=0.0, le=1.0, description="target: the last max(1, floor(f T))"
    )
    # ANN form: the largest activation of the whole batch (the authors') or each sample's
    ann_peak: Literal["batch", "sample"] = "batch"


class TrainConfig(Strict):
    device: str = Field("auto", pattern=r"^(auto|cpu|cuda(:[0-9]+)?)$")
    epochs: PositiveInt = 20
    optimizer: Literal["adam", "sgd"] = "adam"
    lr: float = Field(0.005, gt=0.0)
    momentum: float = Field(0.9, ge=0.0, le=1.0)
    weight_decay: NonNegativeFloat = 0.0
    batch_size: PositiveInt = 64
    loss: Literal["mean", "tet"] = "mean"
    tet_lambda: float = Field(1e-3, ge=0.0, le=1.0)


class AugmentConfig(Strict):
    """Training-time augmentation of frame data."""

    crop_padding: NonNegativeInt = Field(
        0, description="random crop after padding by this many pixels"
    )
    flip: bool = Field(False, description="random horizontal flip")
    autoaugment: bool = Field(False, description="AutoAugment, CIFAR-10 policy")
    cutout: NonNegativeInt = Field(0, description="side of the Cutout square; 0 is off")

    @property
    def any(self) -> bool:
        return self != AugmentConfig()


class RecordConfig(Strict):
    calibration_dropout: float = Field(0.3, ge=0.0, lt=1.0)
    dropout_seed: NonNegativeInt = 0
    batch_size: PositiveInt = Field(256, description="speed only: never changes a result")


class EnergyConfig(Strict):
    """Energy per operation in pJ: the 45 nm 32-bit float figures (Horowitz, ISSCC
    2014), a MAC in the encoding layer and an accumulate per synaptic event."""

    mac_pj: NonNegativeFloat = 4.6
    ac_pj: NonNegativeFloat = 0.9


def _epsilon(value: str) -> str:
    if float(value) >= 1.0:
        raise ValueError(f"epsilon {value} is not below 1: a cutoff needs 1 - epsilon > 0")
    return value


class CutoffConfig(Strict):
    policies: tuple[Literal[POLICY_NAMES], ...] = POLICY_NAMES  # type: ignore[valid-type]
    epsilons: tuple[NumberString, ...] = tuple(f"0.0{i}" for i in range(10))
    grid: int | None = Field(None, ge=2, description="topk: the authors' grid of N candidates")
    raw_thresholds: NonNegativeInt = Field(
        20, description="uncalibrated points per policy, '<name>-raw'"
    )
    max_set_size: PositiveInt = Field(
        1, description="spikecp stops once its set holds 1..this many classes"
    )
    energy: EnergyConfig = EnergyConfig()

    @field_validator("policies")
    @classmethod
    def _unique_policies(cls, value):
        if not value:
            raise ValueError("list at least one policy")
        return unique(value, "policies")

    @field_validator("epsilons")
    @classmethod
    def _valid_epsilons(cls, value):
        if not value:
            raise ValueError("list at least one epsilon")
        return unique(tuple(_epsilon(e) for e in value), "epsilons")


class BootstrapConfig(Strict):
    replicates: int = Field(2000, ge=100)
    seed: NonNegativeInt = 0


class SummaryConfig(Strict):
    max_accuracy_loss_pp: NonNegativeFloat = 0.5
    histogram_epsilon: NumberString = Field("0.02", description="the exit histogram's Top-K point")
    bootstrap: BootstrapConfig = BootstrapConfig()


class EarlyExitConfig(Strict):
    """The calibrated policies run for real, samples leaving the batch as they stop."""

    policies: tuple[Literal["topk", "confidence", "entropy", "spikecp"], ...] = (
        "topk",
        "confidence",
        "entropy",
        "spikecp",
    )
    epsilon: NumberString = "0.02"
    batch_size: PositiveInt = Field(256, description="speed only")

    @field_validator("policies")
    @classmethod
    def _unique_policies(cls, value):
        return unique(value, "policies")

    @field_validator("epsilon")
    @classmethod
    def _below_one(cls, value):
        return _epsilon(value)
