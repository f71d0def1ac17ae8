from spikecut.data.download import DatasetUnavailable
from spikecut.logs import log_to_file
from spikecut.stages import fetch_dataset

log_to_file(snakemake.log[0])
try:
    fetch_dataset(snakemake.output.marker, snakemake.wildcards.dataset, snakemake.params.root)
except DatasetUnavailable as err:
    # the message says what to do; a traceback would only bury it
    raise SystemExit(f"fetch_dataset {snakemake.wildcards.dataset}: {err}") from None
