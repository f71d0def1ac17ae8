import pandas as pd

from spikecut.logs import log_to_file
from spikecut.plots import plot_exit_histograms

log_to_file(snakemake.log[0])
plot_exit_histograms(
    pd.read_csv(snakemake.input.exits, dtype={"alpha": str}),
    snakemake.params.epsilon,
    snakemake.output[0],
    regulariser=snakemake.params.regulariser,
)
