"""Stages that fetch and prepare a data set."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from spikecut.data import get_dataset, prepare, save_prepared
from spikecut.data.download import DatasetUnavailable
from spikecut.data.download import fetch_dataset as fetch_dataset_archives
from spikecut.io import config_id, write_json
from spikecut.settings import DataPlan

log = logging.getLogger(__name__)


def fetch_dataset(marker_out: str, dataset: str, root: str) -> None:
    """Download, verify and unpack a data set's archives into ``root``; the marker lists
    them. Where the download fails, the files the data set's offline source finds (a
    distribution's package) are listed instead; where it finds none either, the error
    says every way to get them."""
    spec = get_dataset(dataset)
    if not spec.archives:
        raise ValueError(f"data set {dataset!r} is embedded: there is nothing to download")
    try:
        placed = fetch_dataset_archives(spec.archives, root)
    except DatasetUnavailable as err:
        if spec.offline is None:
            raise
        try:
            placed = spec.offline(Path(root))
        except DatasetUnavailable as held:
            raise DatasetUnavailable(f"{err}. Without a download: {held}") from err
        # a warning, not an error: the run goes on, but its data came from elsewhere
        log.warning(
            "%s could not be downloaded (%s); its files are read from %s instead",
            dataset,
            err.__cause__ or err,
            ", ".join(entry["path"] for entry in placed.values()),
        )
    write_json(marker_out, placed)


def prepare_dataset(
    frames_out: str,
    params_out: str,
    dataset: str,
    plan: DataPlan,
    raw: Sequence[str] = (),
    key: str | None = None,
) -> None:
    """Prepare ``dataset`` by ``plan``. ``raw`` is the fetched marker of a downloaded
    data set, whose raw files lie beside it (nothing for an embedded one). ``key``,
    where given, is the cache folder's key the workflow asked for; it must be this
    plan's, so that a command run with other settings cannot fill an existing folder
    with other frames."""
    params = plan.model_dump()
    if key is not None and key != config_id(params):
        raise ValueError(
            f"{frames_out} is keyed {key}, but the settings of this run make data set "
            f"{dataset} with key {config_id(params)}: run snakemake with the config "
            "(and --config values) that made this folder, or without a target, so that "
            "it asks for the folder of these settings"
        )
    data = prepare(
        dataset,
        plan.T,
        plan.seed,
        plan.test_fraction,
        plan.val_fraction,
        plan.limit,
        plan.options,
        Path(raw[0]).parent.parent if raw else None,
        plan.train_limit,
    )
    save_prepared(data, frames_out, params_out, params | {"config_id": config_id(params)})
    log.info("prepared %s: %s", dataset, {s: len(v) for s, v in data.y.items()})
