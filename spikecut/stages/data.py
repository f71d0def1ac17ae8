"""Stages that fetch and prepare a data set."""

from __future__ import annotations

import logging

from spikecut.data import prepare, save_prepared
from spikecut.data.download import fetch_dataset as fetch_dataset_archives
from spikecut.io import config_id, write_json
from spikecut.settings import DataPlan

log = logging.getLogger(__name__)


def fetch_dataset(marker_out: str, dataset: str, root: str) -> None:
    """Download, verify and unpack a data set's archives; the marker lists them."""
    write_json(marker_out, fetch_dataset_archives(dataset, root))


def prepare_dataset(frames_out: str, params_out: str, dataset: str, plan: DataPlan) -> None:
    data = prepare(
        dataset,
        plan.T,
        plan.seed,
        plan.test_fraction,
        plan.val_fraction,
        plan.limit,
        plan.options,
        plan.raw_root,
    )
    params = plan.model_dump()
    save_prepared(data, frames_out, params_out, params | {"config_id": config_id(params)})
    log.info("prepared %s: %s", dataset, {s: len(v) for s, v in data.y.items()})
