import pandas as pd

from spikecut.logs import log_to_file
from spikecut.plots import plot_accuracy_vs_timestep

log_to_file(snakemake.log[0])
plot_accuracy_vs_timestep(
    pd.read_csv(snakemake.input.fixed, dtype={"alpha": str}),
    snakemake.output[0],
    regulariser=snakemake.params.regulariser,
)
