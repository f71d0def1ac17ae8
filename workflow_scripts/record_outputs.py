from spikecut.logs import log_to_file
from spikecut.stages import record

log_to_file(snakemake.log[0])
record(snakemake.input.model, snakemake.input.frames, snakemake.output.logits,
       snakemake.params.cfg, threads=snakemake.threads,
       early_exit_out=snakemake.output.early_exit, early_exit=snakemake.params.early_exit)
