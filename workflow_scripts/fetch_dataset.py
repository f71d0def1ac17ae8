from spikecut.logs import log_to_file
from spikecut.stages import fetch_dataset

log_to_file(snakemake.log[0])
fetch_dataset(snakemake.output.marker, snakemake.wildcards.dataset, snakemake.params.root)
