import pandas as pd

from spikecut.logs import log_to_file
from spikecut.plots import plot_dose_response

log_to_file(snakemake.log[0])
plot_dose_response(
    pd.read_csv(snakemake.input.effects, dtype={"alpha": str}),
    snakemake.output[0],
    regulariser=snakemake.params.regulariser,
)
