from spikecut.logs import log_to_file
from spikecut.stages import concat_csv

log_to_file(snakemake.log[0])
for name in snakemake.output.keys():
    concat_csv(snakemake.input[name], snakemake.output[name])
