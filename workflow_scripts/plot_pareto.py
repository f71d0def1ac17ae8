import pandas as pd

from spikecut.logs import log_to_file
from spikecut.plots import plot_pareto

log_to_file(snakemake.log[0])
plot_pareto(
    pd.read_csv(snakemake.input.curves, dtype={"alpha": str}),
    pd.read_csv(snakemake.input.points, dtype={"alpha": str}),
    snakemake.output[0],
    regulariser=snakemake.params.regulariser,
)
