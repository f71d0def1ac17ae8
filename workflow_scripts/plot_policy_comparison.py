import pandas as pd

from spikecut.logs import log_to_file
from spikecut.plots import plot_policy_comparison

log_to_file(snakemake.log[0])
plot_policy_comparison(
    pd.read_csv(snakemake.input.curves, dtype={"alpha": str}),
    pd.read_csv(snakemake.input.points, dtype={"alpha": str}),
    snakemake.output[0],
    x=snakemake.params.cost,
    regulariser=snakemake.params.regulariser,
)
