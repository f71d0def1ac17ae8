"""The settings of each part of the library, with their defaults: the one place a
default is written. The workflow's config is made of these blocks
(:mod:`spikecut.settings.workflow`), and the library takes them as they are."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    NonNegativeFloat,
    NonNegativeInt,
    PositiveInt,
    SerializeAsAny,
    ValidationError,
    field_validator,
)

from spikecut.cutoff.costs import EnergyModel
from spikecut.cutoff.policies import BASELINE, PAPER, POLICIES, PolicyOptions
from spikecut.regularisers import RCS, REGULARISERS, RegulariserSettings
from spikecut.settings.base import NumberString, Strict, error_lines, unique


class NeuronConfig(Strict):
    """The spiking neuron of BPTT models. The defaults are the paper's direct-training
    LIF (docs/method.md §6): u <- 0.5 u + x (tau = 2, no input decay), V_th = 1, hard reset to 0,
    triangle surrogate of width 1."""

    kind: Literal["lif", "if"] = Field("lif", description="leaky or plain integrate-and-fire")
    tau: float = Field(2.0, gt=1.0, description="membrane time constant: u <- (1 - 1/tau) u + x")
    decay_input: bool = Field(False, description="also scale the input by 1/tau")
    v_threshold: float = Field(1.0, gt=0.0)
    v_reset: float | None = Field(0.0, description="null: soft reset (subtract the threshold)")
    surrogate: Literal["triangle", "sigmoid", "atan"] = Field(
        "triangle", description="the spike's gradient in training"
    )
    surrogate_width: float = Field(1.0, gt=0.0, description="the surrogate's width parameter")
    detach_reset: bool = Field(False, description="no gradient through the reset")
    backend: Literal["auto", "torch", "spikingjelly", "cupy"] = Field(
        "auto",
        description="speed only. auto: cupy where CuPy and CUDA are present, else torch "
        "on the CPU; cupy: spikecut's kernels on CUDA where they pass their self-check; "
        "torch: SpikingJelly's path, but CPU inference by spikecut's in-place loop (the "
        "same spikes); spikingjelly: SpikingJelly's nodes (the converted IF neurons of "
        "qcfs are always spikecut's)",
    )


class QCFSConfig(Strict):
    """The conversion track: the QCFS ANN and the IF SNN it becomes."""

    levels: PositiveInt = Field(4, description="L")
    theta_init: float = Field(8.0, gt=0.0, description="initial trainable threshold of each layer")
    T: int = Field(16, ge=1, le=256, description="steps the converted SNN runs on static data")


class TrainConfig(Strict):
    """Training of every run; the checkpoint kept is the best on the validation split."""

    device: str = Field(
        "auto",
        pattern=r"^(auto|cpu|cuda(:[0-9]+)?)$",
        description="auto: a GPU no other spikecut job holds, else the CPU; cuda: the same, "
        "but an error without a GPU; cuda:N pins one; also used by recording",
    )
    epochs: PositiveInt = 20
    optimizer: Literal["adam", "sgd"] = "adam"
    lr: float = Field(0.005, gt=0.0, description="initial learning rate, cosine schedule")
    momentum: float = Field(0.9, ge=0.0, le=1.0, description="sgd only")
    weight_decay: NonNegativeFloat = 0.0
    batch_size: PositiveInt = 64
    loss: Literal["mean", "tet"] = Field(
        "mean", description="cross-entropy of the mean output, or TET's per-step loss"
    )
    tet_lambda: float = Field(1e-3, ge=0.0, le=1.0, description="TET's MSE term weight")
    precision: Literal["fp32", "bf16", "fp16"] = Field(
        "fp32",
        description="autocast of the forward pass and loss; fp16 adds a gradient scaler. "
        "Recorded outputs are float32 either way",
    )
    deterministic: bool = Field(
        True,
        description="false: cuDNN picks its kernels by timing them, faster but no longer "
        "reproducible to the last digit",
    )
    fail_on_divergence: bool = Field(
        True,
        description="a run that ends no better than guessing fails, naming the fix; false: "
        "it is kept, and flagged in its metrics, the summary and the headline",
    )
    compile: bool = Field(
        False,
        description="torch.compile the model's forward pass; its fused kernels round "
        "differently, so it retrains like any other training key",
    )
    regulariser: str = Field(
        RCS.name,
        description="weighted by each run's alpha; its settings: regularisers.<name>",
        json_schema_extra=lambda schema: schema.update(enum=list(REGULARISERS)),
    )

    @field_validator("regulariser")
    @classmethod
    def _registered_regulariser(cls, value):
        if value not in REGULARISERS:
            raise ValueError(f"unknown regulariser {value!r}; choose from {list(REGULARISERS)}")
        return value


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
    """Recording the per-step outputs of test, validation and calibration sets."""

    calibration_dropout: float = Field(
        0.3, ge=0.0, lt=1.0, description="dropout after each spiking layer on the calibration set"
    )
    dropout_seed: NonNegativeInt = Field(0, description="its masks, drawn per sample")
    batch_size: PositiveInt = Field(256, description="speed only: never changes a result")


def _epsilon(value: str) -> str:
    if float(value) >= 1.0:
        raise ValueError(f"epsilon {value} is not below 1: a cutoff needs 1 - epsilon > 0")
    return value


def _known(names: Iterable[str], registry: Mapping[str, Any], what: str) -> None:
    """Refuse the names ``registry`` does not hold, read as it stands when the config is
    validated (so that what a user registers first is accepted)."""
    unknown = [n for n in names if n not in registry]
    if unknown:
        raise ValueError(f"unknown {what} {unknown}; choose from {list(registry)}")


def _registered(names: tuple[str, ...], what: str, live: bool = False) -> tuple[str, ...]:
    """``names`` if each is a registered policy (that can stop a running network, with
    ``live``)."""
    _known(names, POLICIES, what)
    if live:
        offline = [n for n in names if not POLICIES[n].live]
        if offline:
            runs = [n for n, record in POLICIES.items() if record.live]
            raise ValueError(f"{offline} cannot stop a running network; choose from {runs}")
    return unique(names, what)


def _policy_names_schema(schema: dict[str, Any]) -> None:
    schema["items"] = {"enum": list(POLICIES)}


def schema_by_name(registry: Mapping[str, Any], model_of: Callable) -> Callable:
    """The JSON schema of a ``{name: settings}`` mapping: one property per record."""

    def update(schema: dict[str, Any]) -> None:
        schema["additionalProperties"] = False
        schema["properties"] = {
            name: model_of(record).model_json_schema() for name, record in registry.items()
        }

    return update


def _by_name(registry: Mapping[str, Any], what: str, model_of: Callable) -> Callable:
    """A check of ``{name: settings}``: each name registered in ``registry``, each entry
    validated by ``model_of(record)``."""

    def check(value: Any) -> Any:
        if not isinstance(value, dict):
            return value  # pydantic says it must be a mapping
        _known(value, registry, what)
        validated, problems = {}, []
        for name, given in value.items():
            try:
                validated[name] = model_of(registry[name]).model_validate(given or {})
            except ValidationError as err:
                problems += [f"{name}.{where}: {why}" for where, why in error_lines(err)]
        if problems:
            raise ValueError("; ".join(problems))
        return validated

    return check


# {policy: options} and {regulariser: settings}, each entry validated by the model its
# record names
PolicyOptionsByName = Annotated[
    dict[str, SerializeAsAny[PolicyOptions]],
    BeforeValidator(_by_name(POLICIES, "policies", lambda record: record.options)),
]
RegulariserSettingsByName = Annotated[
    dict[str, SerializeAsAny[RegulariserSettings]],
    BeforeValidator(_by_name(REGULARISERS, "regularisers", lambda record: record.settings)),
]


class CutoffConfig(Strict):
    """The cutoff sweep: every policy at every epsilon, from the recorded outputs."""

    policies: tuple[str, ...] = Field(
        tuple(POLICIES),
        description="the policies to sweep; fixed T and Top-K are needed",
        json_schema_extra=_policy_names_schema,
    )
    epsilons: tuple[NumberString, ...] = Field(
        tuple(f"0.0{i}" for i in range(10)), description="calibrate to 1 - epsilon; each < 1"
    )
    options: PolicyOptionsByName = Field(
        {},
        description="each policy's options by name (see the list below), e.g. "
        "topk: {grid: 100}; also read by the live early exits",
        json_schema_extra=schema_by_name(POLICIES, lambda record: record.options),
    )
    raw_thresholds: NonNegativeInt = Field(
        20, description="uncalibrated points per policy, '<name>-raw'"
    )
    energy: EnergyModel = EnergyModel()

    @field_validator("policies")
    @classmethod
    def _needed_policies(cls, value):
        _registered(value, "policies")
        # the summary measures every policy against the fixed-T baseline, and the exit
        # histogram shows the paper's policy
        missing = [p for p in (BASELINE, PAPER) if p not in value]
        if missing:
            raise ValueError(f"add {missing}: the summary and figures compare against them")
        return value

    @field_validator("epsilons")
    @classmethod
    def _valid_epsilons(cls, value):
        if not value:
            raise ValueError("list at least one epsilon")
        return unique(tuple(_epsilon(e) for e in value), "epsilons")

    def policy_options(self, names: tuple[str, ...] | None = None) -> dict[str, PolicyOptions]:
        """``{policy: options}`` of ``names`` (default: the swept policies), each with
        its defaults where the config sets none."""
        names = self.policies if names is None else names
        return {n: self.options.get(n) or POLICIES[n].options() for n in names}

    def sweep_options(self) -> dict:
        """The keyword arguments of :func:`spikecut.cutoff.sweep` these settings give."""
        return dict(
            policies=self.policy_options(),
            epsilons=[float(e) for e in self.epsilons],
            raw=self.raw_thresholds,
            energy=self.energy,
        )


class BootstrapConfig(Strict):
    """The bootstrap behind every interval: test and validation samples drawn again,
    the protocol run again, a Student-t term for the seeds."""

    replicates: int = Field(2000, ge=100)
    seed: NonNegativeInt = 0


class SummaryPlan(Strict):
    """What the summary job reads: operating points, speed-ups and intervals."""

    max_accuracy_loss_pp: NonNegativeFloat = Field(
        0.5, description="tolerance below full-T accuracy that defines an operating point"
    )
    bootstrap: BootstrapConfig = BootstrapConfig()


class SummaryConfig(SummaryPlan):
    """Operating points, speed-ups and intervals of the summary tables and figures."""

    histogram_epsilon: NumberString = Field(
        "0.02", description="the Top-K point of the exit histograms (read by those figures alone)"
    )


class EarlyExitConfig(Strict):
    """The calibrated policies run for real, samples leaving the batch as they stop."""

    policies: tuple[str, ...] = Field(
        tuple(n for n, record in POLICIES.items() if record.live),
        min_length=1,
        description="policies that can stop a running network; options as in the sweep",
        json_schema_extra=_policy_names_schema,
    )
    epsilon: NumberString = Field("0.02", description="each policy calibrated to 1 - epsilon")
    samples: PositiveInt | None = Field(
        None,
        description="test samples run live and timed, evenly spaced through the test split; "
        "null: all",
    )
    batch_size: PositiveInt = Field(256, description="speed only")

    @field_validator("policies")
    @classmethod
    def _live_policies(cls, value):
        return _registered(value, "policies", live=True)

    @field_validator("epsilon")
    @classmethod
    def _below_one(cls, value):
        return _epsilon(value)
