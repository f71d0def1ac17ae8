from spikecut.logs import log_to_file
from spikecut.stages import train

log_to_file(snakemake.log[0])
train(snakemake.input.frames, snakemake.output.model, snakemake.output.metrics,
      snakemake.params.run, snakemake.params.cfg, threads=snakemake.threads,
      resume=snakemake.params.resume)
