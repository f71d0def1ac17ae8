"""The whole workflow config as one typed model, validated in full before any job runs,
and the exact settings each stage reads.

``Settings.load(config)`` checks every key, type and range, and the rules that span
blocks: every data set and method must build (its options, its model's keys, its input
size), every split must hold every class, and numbers that name results (alphas,
epsilons) must not repeat once read as numbers. An error names the key path.

The ``*_params`` methods give each stage exactly the settings it reads, as plain data
for Snakemake's ``params`` (so a change reruns just the stages that read it); the stages
turn them back into the typed plans below. Settings that change only speed
(``record.batch_size``, ``early_exit.batch_size``, ``neuron.backend``) are not among them:
jobs read those from the config as it is when they run (:meth:`Settings.speed`).
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, NonNegativeInt, PositiveInt, TypeAdapter

from spikecut.settings.base import ConfigError, NumberString, Strict, unique, validate
from spikecut.settings.models import ModelConfig, merge_model
from spikecut.settings.parts import (
    AugmentConfig,
    CutoffConfig,
    EarlyExitConfig,
    NeuronConfig,
    QCFSConfig,
    RCSConfig,
    RecordConfig,
    SummaryConfig,
    TrainConfig,
)

BASE_METHODS = ("bptt", "qcfs")


def _datasets() -> dict:
    # imported on use: the registry's options are settings, so it imports this package
    from spikecut.data.registry import DATASETS

    return DATASETS


# the RCS settings each method's form of the regulariser does not read
UNUSED_RCS = {"bptt": ("ann_peak",), "qcfs": ("tail_fraction",)}
MODEL_ADAPTER = TypeAdapter(ModelConfig)
DEFAULT_MODEL = {"name": "convsnn"}  # what a model block without a name builds


class DatasetEntry(Strict):
    T: int = Field(ge=1, le=64, description="timesteps")
    epochs: PositiveInt | None = Field(None, description="overrides training.epochs")
    limit: int | None = Field(None, ge=20, description="a stratified subset of this many samples")
    options: dict[str, Any] = Field(
        {}, description="the data set's own options (spikecut.data.registry)"
    )
    model: dict[str, Any] = Field({}, description="overrides keys of the shared model block")
    augment: AugmentConfig = Field(AugmentConfig(), description="frame data only")
    methods: tuple[str, ...] | None = Field(None, description="overrides the top-level methods")


class Variant(Strict):
    """A named variant of bptt or qcfs: its blocks override the shared ones."""

    method: Literal[BASE_METHODS]  # type: ignore[valid-type]
    neuron: dict[str, Any] = {}
    qcfs: dict[str, Any] = {}
    training: dict[str, Any] = {}
    model: dict[str, Any] = {}


class DataConfig(Strict):
    seed: NonNegativeInt = Field(0, description="event synthesis and the splits")
    raw_root: str = Field("data/raw", description="downloaded archives and what they unpack to")
    test_fraction: float = Field(0.5, gt=0.0, lt=1.0, description="of the sources, where not fixed")
    val_fraction: float = Field(0.3, gt=0.0, lt=1.0, description="of what remains")


class JobResources(Strict):
    mem_mb: int = Field(4000, ge=100)
    runtime: int = Field(60, ge=1, description="minutes; doubles on each retry of training")
    gpu: NonNegativeInt = 0


class ResourcesConfig(Strict):
    prepare: JobResources = JobResources(runtime=30)
    train: JobResources = JobResources()
    record: JobResources = JobResources(runtime=30)


class QCFSNet(Strict):
    """What the QCFS ANN is built and trained with (its T is the recording's)."""

    levels: PositiveInt
    theta_init: float


class DataPlan(Strict):
    """Everything preparing a data set reads."""

    T: int
    limit: int | None
    options: dict[str, Any]
    seed: int
    raw_root: str
    test_fraction: float
    val_fraction: float


class TrainPlan(Strict):
    """Everything a training job reads."""

    method: Literal[BASE_METHODS]  # type: ignore[valid-type]
    model: ModelConfig
    neuron: NeuronConfig | None = Field(None, description="bptt")
    qcfs: QCFSNet | None = Field(None, description="qcfs")
    rcs: RCSConfig
    training: TrainConfig
    augment: AugmentConfig


class RecordPlan(Strict):
    """Everything a recording job reads."""

    method: Literal[BASE_METHODS]  # type: ignore[valid-type]
    qcfs_steps: int | None = Field(None, description="the converted SNN's T on static data")
    calibration_dropout: float
    dropout_seed: int
    device: str


class EarlyExitPlan(Strict):
    policies: tuple[str, ...]
    epsilon: NumberString
    max_set_size: int
    device: str


class Speed(Strict):
    """Settings that change how fast a job runs, never what it computes."""

    record_batch_size: PositiveInt
    early_exit_batch_size: PositiveInt
    neuron_backend: str


class Settings(Strict):
    results: str = Field("results", description="the root of every output: two configs, two roots")
    datasets: dict[str, DatasetEntry] = Field(min_length=1)
    data: DataConfig = DataConfig()
    methods: tuple[str, ...] = ("bptt",)
    variants: dict[str, Variant] = {}
    alphas: tuple[NumberString, ...] = Field(min_length=1, description="RCS weights; '0': baseline")
    seeds: tuple[NonNegativeInt, ...] = Field(min_length=1)
    model: dict[str, Any] = Field(
        {},
        description="shared by every data set and method; without a name, the convsnn architecture",
    )
    neuron: NeuronConfig = NeuronConfig()
    qcfs: QCFSConfig = QCFSConfig()
    training: TrainConfig = TrainConfig()
    rcs: RCSConfig = RCSConfig()
    record: RecordConfig = RecordConfig()
    cutoff: CutoffConfig = CutoffConfig()
    summary: SummaryConfig = SummaryConfig()
    early_exit: EarlyExitConfig = EarlyExitConfig()
    resources: ResourcesConfig = ResourcesConfig()

    @classmethod
    def load(cls, config: dict) -> Settings:
        """The settings of ``config``, or a :class:`ConfigError` naming every bad key."""
        settings = validate(cls, config)
        problems = settings._problems()
        if problems:
            raise ConfigError(problems)
        return settings

    # -- rules that span blocks ------------------------------------------------------

    def _problems(self) -> list[str]:
        problems = []
        for what in ("alphas", "seeds", "methods"):
            try:
                unique(getattr(self, what), what)
            except ValueError as err:
                problems.append(f"config key {what}: {err}")
        for name, entry in self.datasets.items():
            if name not in _datasets():
                problems.append(
                    f"config key datasets.{name}: unknown data set; "
                    f"registered: {sorted(_datasets())}"
                )
                continue
            try:
                options = self.options(name)
            except ConfigError as err:
                problems += err.lines
                continue
            problems += self._split_problems(name, entry, options)
            for method in self.dataset_methods(name):
                if method not in BASE_METHODS and method not in self.variants:
                    problems.append(
                        f"config key datasets.{name}.methods: {method!r} is neither "
                        f"{' nor '.join(BASE_METHODS)} nor a key of variants "
                        f"({sorted(self.variants)})"
                    )
                    continue
                try:
                    plan = self.train_plan(name, method)
                except ConfigError as err:
                    problems += [p for p in err.lines if p not in problems]
                    continue
                why = plan.model.check_input(_datasets()[name].frame_shape(options))
                if why is not None:
                    problems.append(f"config key {self._model_key(name, method)}: {why}")
        if self.summary.histogram_epsilon not in self.cutoff.epsilons:
            problems.append(
                f"config key summary.histogram_epsilon: "
                f"{self.summary.histogram_epsilon} is not among cutoff.epsilons "
                f"{list(self.cutoff.epsilons)}; the figure would show only the "
                "oracle"
            )
        return problems

    def options(self, name: str):
        """The typed options of data set ``name``."""
        return validate(
            _datasets()[name].options, self.datasets[name].options, ("datasets", name, "options")
        )

    def _split_problems(self, name: str, entry: DatasetEntry, options) -> list[str]:
        spec = _datasets()[name]
        problems = []
        if entry.augment.any and spec.kind != "static":
            problems.append(
                f"config key datasets.{name}.augment: augmentation is for frame "
                "data; remove it from this event data set"
            )
        if spec.sources is None:  # known only once the data are there
            return problems
        sources, rarest = spec.sources(options)
        samples = sources * getattr(options, "recordings", 1)
        kept = (
            sources
            if entry.limit is None or entry.limit >= samples
            else max(1, round(entry.limit * sources / samples))
        )
        per_class = math.floor(rarest * kept / sources)
        test = math.ceil(kept * self.data.test_fraction)
        val = math.ceil((kept - test) * self.data.val_fraction)
        parts = {"test": test, "validation": val, "training": kept - test - val}
        if min(parts.values()) < spec.num_classes or per_class < 3:
            key = f"datasets.{name}.limit" if entry.limit is not None else "data.val_fraction"
            problems.append(
                f"config key {key}: {kept} sources of {spec.num_classes} classes "
                f"(about {per_class} of the rarest) split into {parts} sources; every split "
                "needs every class: raise the limit or the fractions"
            )
        return problems

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

    # -- what each stage reads -------------------------------------------------------

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

    def _block(self, cls, shared: dict, method: str, name: str) -> Any:
        """Block ``name`` of ``method``: the shared block with the variant's overrides,
        errors named where each key was written."""
        variant = self.variants.get(method)
        override = getattr(variant, name) if variant else {}

        def locate(key: str) -> tuple:
            return ("variants", method, name) if key in override else (name,)

        return validate(cls, shared | override, locate)

    def train_plan(self, dataset: str, method: str) -> TrainPlan:
        """Everything training ``method`` on ``dataset`` reads, validated."""
        variant = self.variants.get(method)
        base = variant.method if variant else method
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
        plan = {
            "method": base,
            "model": model,
            "training": training,
            "rcs": self.rcs,
            "augment": entry.augment,
        }
        if base == "bptt":
            plan["neuron"] = self._block(NeuronConfig, self.neuron.model_dump(), method, "neuron")
        else:
            qcfs = self._block(QCFSConfig, self.qcfs.model_dump(), method, "qcfs")
            plan["qcfs"] = QCFSNet(levels=qcfs.levels, theta_init=qcfs.theta_init)
        return TrainPlan(**plan)

    def data_params(self, dataset: str) -> dict:
        """What preparing ``dataset`` reads (a :class:`DataPlan`)."""
        entry = self.datasets[dataset]
        return DataPlan(
            T=entry.T,
            limit=entry.limit,
            options=self.options(dataset).model_dump(mode="json"),
            **self.data.model_dump(),
        ).model_dump()

    def train_params(self, dataset: str, method: str) -> dict:
        """What training reads: a :class:`TrainPlan` without the settings its method
        ignores and without the speed-only neuron backend."""
        plan = self.train_plan(dataset, method)
        exclude: dict = {"rcs": set(UNUSED_RCS[plan.method])}
        exclude |= {"neuron": {"backend"}} if plan.neuron is not None else {"neuron": True}
        if plan.qcfs is None:
            exclude["qcfs"] = True
        return plan.model_dump(exclude=exclude, mode="json")

    def record_params(self, dataset: str, method: str) -> dict:
        plan = self.train_plan(dataset, method)
        static_qcfs = plan.method == "qcfs" and _datasets()[dataset].kind == "static"
        steps = self._block(QCFSConfig, self.qcfs.model_dump(), method, "qcfs").T
        return RecordPlan(
            method=plan.method,
            qcfs_steps=steps if static_qcfs else None,
            calibration_dropout=self.record.calibration_dropout,
            dropout_seed=self.record.dropout_seed,
            device=plan.training.device,
        ).model_dump()

    def early_exit_params(self, dataset: str, method: str) -> dict:
        return EarlyExitPlan(
            policies=self.early_exit.policies,
            epsilon=self.early_exit.epsilon,
            max_set_size=self.cutoff.max_set_size,
            device=self.train_plan(dataset, method).training.device,
        ).model_dump()

    def speed(self) -> Speed:
        return Speed(
            record_batch_size=self.record.batch_size,
            early_exit_batch_size=self.early_exit.batch_size,
            neuron_backend=self.neuron.backend,
        )
