"""The exact settings each stage reads, from the validated config.

The ``*_params`` methods give each stage exactly the settings it reads, as plain data
for Snakemake's ``params`` (so a change reruns just the stages that read it); the stages
turn them back into the typed plans below. Settings that change only speed
(``record.batch_size``, ``early_exit.batch_size``, ``neuron.backend``) are not among them:
jobs read those from the config as it is when they run (:meth:`Plans.speed`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveInt, SerializeAsAny, model_validator

from spikecut.data.registry import DATASETS
from spikecut.regularisers import REGULARISERS, RegulariserRecord, RegulariserSettings
from spikecut.settings.base import NumberString, Strict, validate
from spikecut.settings.blocks import (
    BASE_METHODS,
    DEFAULT_MODEL,
    METHOD_SETTINGS,
    MODEL_ADAPTER,
    NEURON_BLOCKS,
    QCFSNet,
)
from spikecut.settings.models import ModelConfig, merge_model
from spikecut.settings.parts import (
    AugmentConfig,
    NeuronConfig,
    PolicyOptionsByName,
    SummaryPlan,
    TrainConfig,
)


class DataPlan(Strict):
    """Everything that decides a data set's prepared frames: its cache folder is keyed
    by these. Where the raw files are is not among them (moving them changes no frame),
    nor is ``test_fraction`` for a data set that splits off its own test set."""

    T: int | None = Field(description="None: no run reads it (static data, converted only)")
    limit: int | None
    train_limit: int | None = None
    options: dict[str, Any]
    seed: int
    test_fraction: float | None
    val_fraction: float


class TrainPlan(Strict):
    """Everything a training job reads."""

    method: Literal[BASE_METHODS]  # type: ignore[valid-type]
    model: ModelConfig
    neuron: NeuronConfig | None = Field(None, description="bptt")
    qcfs: QCFSNet | None = Field(None, description="qcfs")
    regulariser: SerializeAsAny[RegulariserSettings] = Field(
        description="the settings of training.regulariser"
    )
    training: TrainConfig
    augment: AugmentConfig

    @model_validator(mode="before")
    @classmethod
    def _regulariser_settings(cls, data: Any) -> Any:
        # the model of the regulariser block is the one of the regulariser trained with
        if isinstance(data, dict) and isinstance(data.get("regulariser"), dict):
            training = data.get("training")
            name = (
                training.regulariser
                if isinstance(training, TrainConfig)
                else TrainConfig.model_validate(training or {}).regulariser
            )
            settings = REGULARISERS[name].settings.model_validate(data["regulariser"])
            data = data | {"regulariser": settings}
        return data


class RecordPlan(Strict):
    """Everything a recording job reads."""

    method: Literal[BASE_METHODS]  # type: ignore[valid-type]
    static_steps: int | None = Field(
        None, description="steps on static data where the method sets them, not the data set"
    )
    calibration_dropout: float
    dropout_seed: int
    device: str


class EarlyExitPlan(Strict):
    """Everything a live early-exit job reads; the policies' options are the sweep's."""

    policies: PolicyOptionsByName
    epsilon: NumberString
    samples: int | None = None
    device: str


class Speed(Strict):
    """Settings that change how fast a job runs, never what it computes."""

    record_batch_size: PositiveInt
    early_exit_batch_size: PositiveInt
    neuron_backend: str


class Plans:
    """The per-stage plans of :class:`~spikecut.settings.workflow.Settings`."""

    @property
    def regulariser(self) -> RegulariserRecord:
        """The regulariser every run trains with."""
        return REGULARISERS[self.training.regulariser]

    def regulariser_settings(self, name: str) -> RegulariserSettings:
        """The settings of regulariser ``name``: the config's, else its defaults."""
        return self.regularisers.get(name) or REGULARISERS[name].settings()

    def options(self, name: str):
        """The typed options of data set ``name``."""
        return validate(
            DATASETS[name].options, self.datasets[name].options, ("datasets", name, "options")
        )

    def _model_key(self, dataset: str, method: str, key: str | None = None) -> str:
        """Where the model key ``key`` of this data set and method was written, or,
        without a key, the last model block that changed it."""
        variant = self.variants.get(method)
        layers = [
            ("model", self.model),
            (f"datasets.{dataset}.model", self.datasets[dataset].model),
        ]
        if variant:
            layers.append((f"variants.{method}.model", variant.model))
        if key is None:
            return next(path for path, block in reversed(layers) if block)
        return next(
            (
                f"{path}.{key}"
                for path, block in reversed(layers)
                if key in block or "name" in block
            ),
            f"model.{key}",
        )

    def dataset_methods(self, dataset: str) -> tuple[str, ...]:
        return self.datasets[dataset].methods or self.methods

    def runs(self) -> list[tuple[str, str, str, int]]:
        """Every (data set, method, alpha, seed) the config asks for."""
        return [
            (d, m, a, s)
            for d in self.datasets
            for m in self.dataset_methods(d)
            for a in self.alphas
            for s in self.seeds
        ]

    def _override(self, method: str, name: str) -> dict:
        """What variant ``method`` sets in block ``name`` (nothing for a base method)."""
        variant = self.variants.get(method)
        return getattr(variant, name) if variant else {}

    def _block(self, cls, shared: dict, method: str, name: str) -> Any:
        """Block ``name`` of ``method``: the shared block with the variant's overrides,
        errors named where each key was written."""
        override = self._override(method, name)

        def locate(key: str) -> tuple:
            return ("variants", method, name) if key in override else (name,)

        return validate(cls, shared | override, locate)

    def base_method(self, method: str) -> str:
        """The method that ``method`` (a method, or the name of a variant) trains by."""
        variant = self.variants.get(method)
        return variant.method if variant else method

    def train_plan(self, dataset: str, method: str) -> TrainPlan:
        """Everything training ``method`` on ``dataset`` reads, validated."""
        variant = self.variants.get(method)
        base = self.base_method(method)
        entry = self.datasets[dataset]
        merged = merge_model(
            merge_model(merge_model(DEFAULT_MODEL, self.model), entry.model),
            variant.model if variant else {},
        )

        def locate(key: str) -> tuple:
            return tuple(self._model_key(dataset, method, key).split(".")[:-1])

        model = validate(MODEL_ADAPTER, merged, locate)
        training = self._block(TrainConfig, self.training.model_dump(), method, "training")
        if entry.epochs is not None:
            training = training.model_copy(update={"epochs": entry.epochs})
        reads = METHOD_SETTINGS[base]
        neurons = self._neuron_block(method)
        return TrainPlan(
            method=base,
            model=model,
            training=training,
            regulariser=self.regulariser_settings(training.regulariser),
            augment=entry.augment,
            **{
                reads.block: reads.kept.model_validate(
                    neurons.model_dump(include=set(reads.kept.model_fields))
                )
            },
        )

    def _neuron_block(self, method: str) -> Strict:
        """The validated block of ``method``'s neurons (``neuron`` or ``qcfs``)."""
        reads = METHOD_SETTINGS[self.base_method(method)]
        shared = getattr(self, reads.block).model_dump()
        return self._block(reads.full, shared, method, reads.block)

    def data_params(self, dataset: str) -> dict:
        """What preparing ``dataset`` reads (a :class:`DataPlan`)."""
        entry = self.datasets[dataset]
        return DataPlan(
            T=entry.T,
            limit=entry.limit,
            train_limit=entry.train_limit,
            options=self.options(dataset).model_dump(mode="json"),
            seed=self.data.seed,
            test_fraction=None if DATASETS[dataset].fixed_test else self.data.test_fraction,
            val_fraction=self.data.val_fraction,
        ).model_dump()

    def train_params(self, dataset: str, method: str) -> dict:
        """What training reads: a :class:`TrainPlan` without the settings its method,
        optimiser and loss ignore, and without the speed-only neuron backend."""
        plan = self.train_plan(dataset, method)
        reads = METHOD_SETTINGS[plan.method]
        form = REGULARISERS[plan.training.regulariser].form(reads.form)
        exclude: dict = {"regulariser": set(form.ignores), "neuron": {"backend"}}
        exclude |= {block: True for block in NEURON_BLOCKS if block != reads.block}
        # whether a diverged run fails changes no number: the job reads it itself
        ignored = {"fail_on_divergence"}
        ignored |= {"momentum"} if plan.training.optimizer != "sgd" else set()
        ignored |= {"tet_lambda"} if plan.training.loss != "tet" else set()
        exclude["training"] = ignored
        return plan.model_dump(exclude=exclude, mode="json")

    def record_params(self, dataset: str, method: str) -> dict:
        plan = self.train_plan(dataset, method)
        key = METHOD_SETTINGS[plan.method].static_steps
        static = key is not None and DATASETS[dataset].kind == "static"
        return RecordPlan(
            method=plan.method,
            static_steps=getattr(self._neuron_block(method), key) if static else None,
            calibration_dropout=self.record.calibration_dropout,
            dropout_seed=self.record.dropout_seed,
            device=plan.training.device,
        ).model_dump()

    def early_exit_params(self, dataset: str, method: str) -> dict:
        return EarlyExitPlan(
            policies=self.cutoff.policy_options(self.early_exit.policies),
            epsilon=self.early_exit.epsilon,
            samples=self.early_exit.samples,
            device=self.train_plan(dataset, method).training.device,
        ).model_dump()

    def summary_params(self) -> dict:
        """What the summary reads (a :class:`SummaryPlan`): not the histogram's epsilon."""
        return self.summary.model_dump(mode="json", include=set(SummaryPlan.model_fields))

    def with_job_options(self, plan: TrainPlan, dataset: str, method: str) -> TrainPlan:
        """``plan`` (from :meth:`train_params`) with the training settings that change
        no number, as this config sets them for ``method`` on ``dataset``."""
        fail = self.train_plan(dataset, method).training.fail_on_divergence
        training = plan.training.model_copy(update={"fail_on_divergence": fail})
        return plan.model_copy(update={"training": training})

    def speed(self) -> Speed:
        return Speed(
            record_batch_size=self.record.batch_size,
            early_exit_batch_size=self.early_exit.batch_size,
            neuron_backend=self.neuron.backend,
        )
