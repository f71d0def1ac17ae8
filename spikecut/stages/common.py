"""What the stages share: the run keys every table starts with, and the names of the
arrays a recording holds."""

from __future__ import annotations

import pandas as pd

RUN_KEYS = ("dataset", "method", "alpha", "seed")
LOGIT_SETS = ("test", "val", "cal")
COMPUTE = ("macs", "sops")


def with_run(frame: pd.DataFrame, run: dict, cid: str) -> pd.DataFrame:
    """Prefix the run's key columns and the producing config's id."""
    keys = pd.DataFrame({k: [run[k]] * len(frame) for k in RUN_KEYS})
    return pd.concat([keys, frame.reset_index(drop=True)], axis=1).assign(config_id=cid)
