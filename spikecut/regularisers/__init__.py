"""Regularisers a run can train with, one record each, registered by name
(``training.regulariser``), each weighted by the run's alpha.

A regulariser is used as ``with reg: logits = model(x)`` followed by
``reg.value(logits, labels)``; it captures what it needs during the forward pass. Its
record gives its settings model (the config's ``regularisers.<name>``) and its forms:
one for an SNN trained over T steps, one for an ANN trained for conversion. A method
asks the record for the form it trains with. The forms are built on demand, so that
this package, and with it the settings, import without torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import Field

from spikecut.settings.base import Strict

if TYPE_CHECKING:
    import torch
    from torch import nn


class Regulariser(Protocol):
    def __enter__(self) -> Regulariser: ...

    def __exit__(self, *exc) -> None: ...

    def value(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor: ...


class RegulariserSettings(Strict):
    """A regulariser's settings (the config's ``regularisers.<name>``); some have none."""


FormName = Literal["snn", "ann"]


@dataclass(frozen=True)
class Form:
    """One form of a regulariser: ``build(model, settings, plan)`` makes it for a model
    about to be trained under a :class:`~spikecut.settings.TrainPlan`; ``ignores`` are
    the settings it does not read, left out of the run's identity."""

    build: Callable[[nn.Module, Any, Any], Regulariser]
    ignores: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegulariserRecord:
    name: str
    label: str  # how tables, figures and the report name it: "RCS"
    settings: type[RegulariserSettings]
    forms: dict[FormName, Form]

    def form(self, kind: FormName) -> Form:
        if kind not in self.forms:
            raise ValueError(f"the {self.label} regulariser has no {kind.upper()} form")
        return self.forms[kind]


REGULARISERS: dict[str, RegulariserRecord] = {}


def is_baseline(alpha: str | float) -> bool:
    """Whether a run of weight ``alpha`` is the baseline: trained without the regulariser."""
    return float(alpha) == 0


def baseline_alpha(alphas) -> str | None:
    """The baseline among ``alphas``; None where none is."""
    return next((a for a in alphas if is_baseline(a)), None)


def register(record: RegulariserRecord) -> RegulariserRecord:
    if record.name in REGULARISERS:
        raise ValueError(f"a regulariser named {record.name!r} is registered already")
    REGULARISERS[record.name] = record
    return record


class RCSSettings(RegulariserSettings):
    """RCS (docs/method.md §8)."""

    aggregation: Literal["max", "mean"] = Field(
        "max", description="over the kept samples of a layer"
    )
    tail_fraction: float = Field(
        0.3, gt=0.0, le=1.0, description="SNN form: the target is the last max(1, floor(f T))"
    )
    ann_peak: Literal["batch", "sample"] = Field(
        "batch",
        description="ANN form: the peak is the whole batch's largest activation (the "
        "authors') or each sample's own",
    )


def _rcs_snn(model, settings: RCSSettings, plan) -> Regulariser:
    from spikecut.regularisers.rcs import SpikingRCS

    return SpikingRCS(model, plan.neuron.v_threshold, settings)


def _rcs_ann(model, settings: RCSSettings, plan) -> Regulariser:
    from spikecut.regularisers.rcs_ann import QCFSRCS

    return QCFSRCS(model, settings)


class Nothing:
    """No regulariser: a run with it trains on the task loss alone (alpha must be 0)."""

    def __enter__(self) -> Nothing:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def value(self, logits, labels):
        return logits.new_zeros(())


def _nothing(model, settings, plan) -> Regulariser:
    return Nothing()


RCS = register(
    RegulariserRecord(
        "rcs",
        "RCS",
        RCSSettings,
        {"snn": Form(_rcs_snn, ("ann_peak",)), "ann": Form(_rcs_ann, ("tail_fraction",))},
    )
)
NONE = register(
    RegulariserRecord(
        "none",
        "no regulariser",
        RegulariserSettings,
        {"snn": Form(_nothing), "ann": Form(_nothing)},
    )
)

__all__ = [
    "NONE",
    "RCS",
    "REGULARISERS",
    "Form",
    "Nothing",
    "RCSSettings",
    "Regulariser",
    "RegulariserRecord",
    "RegulariserSettings",
    "is_baseline",
    "register",
]
