"""The rules of a config that span its blocks: every data set and method must build (its
options, its model's keys, its input size, its regulariser's form), every split must
hold every class, the timesteps must be read where they are set, and numbers that name
results (alphas, epsilons) must not repeat once read as numbers. An error names the key
path."""

from __future__ import annotations

import math

from spikecut.data.registry import DATASETS
from spikecut.data.spec import kept_groups
from spikecut.regularisers import NONE, is_baseline
from spikecut.settings.base import ConfigError, unique, validate
from spikecut.settings.blocks import (
    BASE_METHODS,
    DEFAULT_MODEL,
    METHOD_SETTINGS,
    MODEL_ADAPTER,
    NEURON_BLOCKS,
    DatasetEntry,
)
from spikecut.settings.models import merge_model
from spikecut.settings.parts import TrainConfig


class Checks:
    """The cross-block checks of :class:`~spikecut.settings.workflow.Settings`."""

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
        methods = {self.base_method(m) for d in self.datasets for m in self.dataset_methods(d)}
        for method in sorted(methods & set(BASE_METHODS)):
            try:
                record.form(METHOD_SETTINGS[method].form)
            except ValueError as err:
                problems.append(f"{key}: {err}, which {method} trains with")
        if record is NONE and not all(is_baseline(a) for a in self.alphas):
            problems.append(
                f"{key}: none weighs nothing, so every alpha would train the baseline "
                "again; set alphas: ['0'] or choose a regulariser"
            )
        return problems

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

    def _steps_problems(self, name: str, entry: DatasetEntry) -> list[str]:
        """``datasets.<name>.T`` where a run reads it, and nowhere else: a static data
        set whose every method sets its own steps (qcfs.T) reads no T of its own."""
        bases = {self.base_method(m) for m in self.dataset_methods(name)}
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
            else kept_groups(entry.limit, sources, samples)
        )
        per_class = math.floor(rarest * kept / sources)
        test = math.ceil(kept * self.data.test_fraction)
        val = math.ceil((kept - test) * self.data.val_fraction)
        parts = {"test": test, "validation": val, "training": kept - test - val}
        if entry.train_limit is not None:
            trained = kept_groups(entry.train_limit, sources, samples)
            parts["training"] = min(parts["training"], trained)
        short = [part for part, n in parts.items() if n < spec.num_classes]
        if short or per_class < 3:
            # blame what sized the data set, else the fractions that shrank a split
            if short == ["training"] and entry.train_limit is not None:
                keys = [f"datasets.{name}.train_limit"]
            elif entry.limit is not None:
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
