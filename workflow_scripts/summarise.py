from spikecut.logs import log_to_file
from spikecut.stages import summarise_curves

log_to_file(snakemake.log[0])
summarise_curves(snakemake.input.curves, snakemake.output.table, snakemake.output.per_run,
                 snakemake.output.markdown, snakemake.params.max_loss_pp, snakemake.params.config,
                 early_exit=snakemake.input.early_exit)
