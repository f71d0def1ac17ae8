import pandas as pd

from spikecut.logs import log_to_file
from spikecut.plots import plot_models

log_to_file(snakemake.log[0])
tables = {
    name: pd.read_csv(snakemake.input[name], dtype={"alpha": str})
    for name in ("curves", "fixed", "points", "exits")
}
plot_models(
    **tables,
    folder=snakemake.output[0],
    epsilon=snakemake.params.epsilon,
    regulariser=snakemake.params.regulariser,
)
