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
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import (
    Field,
    NonNegativeInt,
    PositiveInt,
    SerializeAsAny,
    TypeAdapter,
    model_validator,
)

from spikecut.data.registry import DATASETS
from spikecut.regularisers import (
    NONE,
    REGULARISERS,
    FormName,
    RegulariserRecord,
    RegulariserSettings,
)
from spikecut.settings.base import ConfigError, NumberString, Strict, unique, validate
from spikecut.settings.models import ModelConfig, merge_model
from spikecut.settings.parts import (
    AugmentConfig,
    CutoffConfig,
    EarlyExitConfig,
    NeuronConfig,
    PolicyOptionsByName,
    QCFSConfig,
    RecordConfig,
    RegulariserSettingsByName,
    SummaryConfig,
    SummaryPlan,
    TrainConfig,
    schema_by_name,
)


class QCFSNet(Strict):
    """What the QCFS ANN is built and trained with (its T is the recording's)."""

    levels: PositiveInt
    theta_init: float


@dataclass(frozen=True)
class MethodSettings:
    """What a method of :mod:`spikecut.methods` reads from the config, beyond the blocks
    every method reads: the block of its neurons (validated as ``full``, kept in the
    training plan as ``kept``), the form of the regulariser it trains with, the norms
    its models can have, and the key of its block that sets how many steps it runs on
    static data (None: the data set's T). A new method adds one entry here, so that the
    config is checked without importing torch."""

    block: str
    full: type[Strict]
    kept: type[Strict]
    form: FormName
    norms: tuple[str, ...]
    static_steps: str | None = None


METHOD_SETTINGS = {
    "bptt": MethodSettings("neuron", NeuronConfig, NeuronConfig, "snn", ("bn", "tebn")),
    "qcfs": MethodSettings("qcfs", QCFSConfig, QCFSNet, "ann", ("bn",), "T"),
}
BASE_METHODS = tuple(METHOD_SETTINGS)
# blocks of a method's neurons; a variant may set only its own method's
NEURON_BLOCKS = tuple(m.block for m in METHOD_SETTINGS.values())


MODEL_ADAPTER = TypeAdapter(ModelConfig)
DEFAULT_MODEL = {"name": "convsnn"}  # what a model block without a name builds


class DatasetEntry(Strict):
    T: int | None = Field(
        None,
        ge=1,
        le=64,
        description="timesteps: of the event frames and of the runs that train over T; "
        "required unless only qcfs runs a static data set (it runs qcfs.T)",
    )
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

    method: Literal[BASE_METHODS] = Field(description="the method it varies")  # type: ignore[valid-type]
    neuron: dict[str, Any] = Field({}, description="keys of the top-level neuron block")
    qcfs: dict[str, Any] = Field({}, description="keys of the top-level qcfs block")
    training: dict[str, Any] = Field({}, description="keys of the top-level training block")
    model: dict[str, Any] = Field({}, description="keys of the model block")


class DataConfig(Strict):
    """Where data come from and how they are split."""

    seed: NonNegativeInt = Field(0, description="event synthesis and the splits")
    raw_root: str = Field("data/raw", description="downloaded archives and what they unpack to")
    test_fraction: float = Field(0.5, gt=0.0, lt=1.0, description="of the sources, where not fixed")
    val_fraction: float = Field(0.3, gt=0.0, lt=1.0, description="of what remains")


class JobResources(Strict):
    """What one job of a rule asks the scheduler for."""

    mem_mb: int = Field(4000, ge=100)
    runtime: int = Field(
        60, ge=1, description="minutes; a retry asks for the same (training resumes)"
    )
    gpu: NonNegativeInt = Field(0, description="GPUs per job")


class ResourcesConfig(Strict):
    """Scheduler requests of the heavy rules (see profiles/)."""

    prepare: JobResources = JobResources(runtime=30)
    train: JobResources = JobResources()
    record: JobResources = JobResources(runtime=30)


class DataPlan(Strict):
    """Everything that decides a data set's prepared frames: its cache folder is keyed
    by these. Where the raw files are is not among them (moving them changes no frame),
    nor is ``test_fraction`` for a data set that splits off its own test set."""

    T: int | None = Field(description="None: no run reads it (static data, converted only)")
    limit: int | None
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


class Settings(Strict):
    results: str = Field(
        "results", min_length=1, description="the root of every output: two configs, two roots"
    )
    datasets: dict[str, DatasetEntry] = Field(
        min_length=1, description="the data sets to run, by registry name"
    )
    data: DataConfig = DataConfig()
    methods: tuple[str, ...] = Field(("bptt",), description="bptt, qcfs or variant names")
    variants: dict[str, Variant] = Field({}, description="named variants of a method")
    alphas: tuple[NumberString, ...] = Field(min_length=1, description="RCS weights; '0': baseline")
    seeds: tuple[NonNegativeInt, ...] = Field(min_length=1, description="one run per seed")
    model: dict[str, Any] = Field(
        {},
        description="shared by every data set and method; without a name, the convsnn architecture",
    )
    neuron: NeuronConfig = NeuronConfig()
    qcfs: QCFSConfig = QCFSConfig()
    training: TrainConfig = TrainConfig()
    regularisers: RegulariserSettingsByName = Field(
        {},
        description="each regulariser's settings by name (see the list below)",
        json_schema_extra=schema_by_name(REGULARISERS, lambda record: record.settings),
    )
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
        problems += self._method_problems("methods", self.methods)
        problems += self._variant_problems()
        problems += self._regulariser_problems()
        cuda = None  # (device, run) of the first run whose jobs need a GPU
        for name, entry in self.datasets.items():
            if name not in DATASETS:
                problems.append(
                    f"config key datasets.{name}: unknown data set; registered: {sorted(DATASETS)}"
                )
                continue
            try:
                options = self.options(name)
            except ConfigError as err:
                problems += err.lines
                continue
            problems += self._split_problems(name, entry, options)
            problems += self._steps_problems(name, entry)
            if entry.methods is not None:
                problems += self._method_problems(f"datasets.{name}.methods", entry.methods)
            for method in self.dataset_methods(name):
                if method not in BASE_METHODS and method not in self.variants:
                    continue  # reported above
                try:
                    plan = self.train_plan(name, method)
                except ConfigError as err:
                    problems += err.lines
                    continue
                if plan.training.device.startswith("cuda") and cuda is None:
                    cuda = (plan.training.device, f"{name}/{method}")
                why = plan.model.check_input(DATASETS[name].frame_shape(options))
                if why is not None:
                    problems.append(f"config key {self._model_key(name, method)}: {why}")
                norms = METHOD_SETTINGS[plan.method].norms
                if plan.model.norm not in norms:
                    problems.append(
                        f"config key {self._model_key(name, method, 'norm')}: {plan.method} "
                        f"models take norm {' or '.join(norms)}, not {plan.model.norm}"
                    )
                if entry.epochs is not None and "epochs" in self._override(method, "training"):
                    problems.append(
                        f"config key variants.{method}.training.epochs: datasets.{name}.epochs "
                        "is set too; set the epochs of this data set's runs in one place"
                    )
        if self.summary.histogram_epsilon not in self.cutoff.epsilons:
            problems.append(
                f"config key summary.histogram_epsilon: "
                f"{self.summary.histogram_epsilon} is not among cutoff.epsilons "
                f"{list(self.cutoff.epsilons)}; the figure would show only the "
                "oracle"
            )
        if cuda:
            problems += [
                f"config key resources.{stage}.gpu: training.device is {cuda[0]} (for "
                f"{cuda[1]}), but these jobs ask their scheduler for no GPU and would find "
                f"none; set resources: {{{stage}: {{gpu: 1}}}} (or training.device: auto)"
                for stage in ("train", "record")
                if getattr(self.resources, stage).gpu == 0
            ]
        return list(dict.fromkeys(problems))  # a shared block's error is found per run

    def _regulariser_problems(self) -> list[str]:
        """One regulariser for every run, so that each alpha compares like with like,
        in every form the config's methods train with; and none weighted by alpha > 0
        where there is none to weigh."""
        record, key = self.regulariser, "config key training.regulariser"
        problems = [
            f"config key variants.{name}.training.regulariser: every run trains with "
            f"one regulariser, training.regulariser ({record.name}); set it there"
            for name in self.variants
            if self._override(name, "training").get("regulariser", record.name) != record.name
        ]
        methods = {
            self.variants[m].method if m in self.variants else m
            for d in self.datasets
            for m in self.dataset_methods(d)
        }
        for method in sorted(methods & set(BASE_METHODS)):
            try:
                record.form(METHOD_SETTINGS[method].form)
            except ValueError as err:
                problems.append(f"{key}: {err}, which {method} trains with")
        if record is NONE and any(float(a) > 0 for a in self.alphas):
            problems.append(
                f"{key}: none weighs nothing, so every alpha would train the baseline "
                "again; set alphas: ['0'] or choose a regulariser"
            )
        return problems

    @property
    def regulariser(self) -> RegulariserRecord:
        """The regulariser every run trains with."""
        return REGULARISERS[self.training.regulariser]

    def regulariser_settings(self, name: str) -> RegulariserSettings:
        """The settings of regulariser ``name``: the config's, else its defaults."""
        return self.regularisers.get(name) or REGULARISERS[name].settings()

    def _method_problems(self, key: str, methods: tuple[str, ...]) -> list[str]:
        problems = [
            f"config key {key}: {method!r} is neither {' nor '.join(BASE_METHODS)} nor a "
            f"key of variants ({sorted(self.variants)})"
            for method in methods
            if method not in BASE_METHODS and method not in self.variants
        ]
        try:
            unique(methods, "methods")
        except ValueError as err:
            problems.append(f"config key {key}: {err}")
        return problems

    def _variant_problems(self) -> list[str]:
        """Each variant on its own, whether a data set runs it or not: the blocks its
        method reads must be valid, and it may set no block its method ignores."""
        used = {m for name in self.datasets for m in self.dataset_methods(name)}
        problems = []
        for name, variant in self.variants.items():
            where = f"config key variants.{name}"
            if name in BASE_METHODS:
                problems.append(
                    f"{where}: a variant cannot be named like the method {name}, which it "
                    "would replace; rename it"
                )
                continue
            reads = METHOD_SETTINGS[variant.method]
            for block in NEURON_BLOCKS:
                if block != reads.block and getattr(variant, block):
                    problems.append(
                        f"{where}.{block}: a {variant.method} variant does not read this "
                        f"block; its neurons are set under {reads.block}"
                    )
            if "backend" in variant.neuron:
                problems.append(
                    f"{where}.neuron.backend: the backend changes speed only and is set "
                    "once, for every run, as neuron.backend"
                )
            blocks = [(reads.block, reads.full), ("training", TrainConfig)]
            for block, cls in blocks:
                try:
                    self._block(cls, getattr(self, block).model_dump(), name, block)
                except ConfigError as err:
                    problems += err.lines
            if name not in used:  # a used one is checked with each data set's model
                merged = merge_model(merge_model(DEFAULT_MODEL, self.model), variant.model)
                try:
                    validate(MODEL_ADAPTER, merged, ("variants", name, "model"))
                except ConfigError as err:
                    problems += err.lines
        return problems

    def options(self, name: str):
        """The typed options of data set ``name``."""
        return validate(
            DATASETS[name].options, self.datasets[name].options, ("datasets", name, "options")
        )

    def _steps_problems(self, name: str, entry: DatasetEntry) -> list[str]:
        """``datasets.<name>.T`` where a run reads it, and nowhere else: a static data
        set whose every method sets its own steps (qcfs.T) reads no T of its own."""
        bases = {
            self.variants[m].method if m in self.variants else m for m in self.dataset_methods(name)
        }
        own = [m for m in sorted(bases & set(BASE_METHODS)) if METHOD_SETTINGS[m].static_steps]
        reads_t = DATASETS[name].kind != "static" or len(own) < len(bases)
        key = f"config key datasets.{name}.T"
        if reads_t and entry.T is None:
            return [f"{key}: is required: the runs of this data set take T timesteps"]
        if not reads_t and entry.T is not None:
            steps = " and ".join(
                f"{METHOD_SETTINGS[m].block}.{METHOD_SETTINGS[m].static_steps}" for m in own
            )
            return [
                f"{key}: no run reads it: on static data, {', '.join(own)} runs {steps} "
                "steps; remove it (set those instead)"
            ]
        return []

    def _split_problems(self, name: str, entry: DatasetEntry, options) -> list[str]:
        spec = DATASETS[name]
        problems = []
        if entry.augment.any and spec.kind != "static":
            problems.append(
                f"config key datasets.{name}.augment: augmentation is for frame "
                "data; remove it from this event data set"
            )
        if spec.sources is None:  # known only once the data are there
            return problems
        samples, sources, rarest = spec.sources(options)
        kept = (
            sources
            if entry.limit is None or entry.limit >= samples
            else max(1, round(entry.limit * sources / samples))
        )
        per_class = math.floor(rarest * kept / sources)
        test = math.ceil(kept * self.data.test_fraction)
        val = math.ceil((kept - test) * self.data.val_fraction)
        parts = {"test": test, "validation": val, "training": kept - test - val}
        short = [part for part, n in parts.items() if n < spec.num_classes]
        if short or per_class < 3:
            # blame what sized the data set, else the fractions that shrank a split
            if entry.limit is not None:
                keys = [f"datasets.{name}.limit"]
            elif entry.options:
                keys = [f"datasets.{name}.options.{k}" for k in entry.options]
            else:
                fractions = {"test": ["test"], "validation": ["val"], "training": ["test", "val"]}
                keys = [
                    f"data.{f}_fraction" for part in short or ["training"] for f in fractions[part]
                ]
            problems.append(
                f"config key {' and '.join(dict.fromkeys(keys))}: {kept} sources of "
                f"{spec.num_classes} classes (about {per_class} of the rarest) split into "
                f"{parts} sources; every split needs every class: use more samples or "
                "change the fractions"
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
        variant = self.variants.get(method)
        reads = METHOD_SETTINGS[variant.method if variant else method]
        shared = getattr(self, reads.block).model_dump()
        return self._block(reads.full, shared, method, reads.block)

    def data_params(self, dataset: str) -> dict:
        """What preparing ``dataset`` reads (a :class:`DataPlan`)."""
        entry = self.datasets[dataset]
        return DataPlan(
            T=entry.T,
            limit=entry.limit,
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
