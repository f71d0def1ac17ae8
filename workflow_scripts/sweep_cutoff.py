from spikecut.logs import log_to_file
from spikecut.settings import CutoffConfig
from spikecut.stages import sweep_cutoff

log_to_file(snakemake.log[0])
sweep_cutoff(
    snakemake.input.logits,
    snakemake.output.curve,
    snakemake.output.exits,
    snakemake.output.sweep,
    CutoffConfig.model_validate(snakemake.params.cutoff),
)
