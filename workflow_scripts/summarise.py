from spikecut.logs import log_to_file
from spikecut.stages import summarise_runs

log_to_file(snakemake.log[0])
summarise_runs(snakemake.input.points, snakemake.input.curves, dict(snakemake.output.items()),
               snakemake.params.max_loss_pp, snakemake.params.config,
               n_boot=snakemake.params.n_boot, bootstrap_seed=snakemake.params.bootstrap_seed,
               early_exit=snakemake.input.early_exit)
