from spikecut.logs import log_to_file
from spikecut.settings import DataPlan
from spikecut.stages import prepare_dataset

log_to_file(snakemake.log[0])
prepare_dataset(
    snakemake.output.frames,
    snakemake.output.params,
    snakemake.wildcards.dataset,
    DataPlan.model_validate(snakemake.params.cfg),
    snakemake.input.raw,
    key=snakemake.wildcards.key,
)
