from spikecut.logs import log_to_file
from spikecut.report import headline_rst

log_to_file(snakemake.log[0])
headline_rst(snakemake.input[0], snakemake.output[0])
