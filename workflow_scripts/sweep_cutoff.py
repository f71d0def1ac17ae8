from spikecut.logs import log_to_file
from spikecut.stages import sweep_cutoff

log_to_file(snakemake.log[0])
sweep_cutoff(snakemake.input.logits, snakemake.output.curve, snakemake.output.exits,
             snakemake.output.points, snakemake.params.cfg, snakemake.params.max_loss_pp)
