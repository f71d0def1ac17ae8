from spikecut.logs import log_to_file
from spikecut.settings import EarlyExitPlan, Settings
from spikecut.stages import early_exit

log_to_file(snakemake.log[0])
speed = Settings.load(snakemake.config).speed()
early_exit(
    snakemake.input.model,
    snakemake.input.frames,
    snakemake.input.logits,
    snakemake.output.table,
    EarlyExitPlan.model_validate(snakemake.params.plan),
    batch_size=speed.early_exit_batch_size,
    # the job reserves the machine to time alone, and computes with one thread as
    # the recording did, so that its exits equal the recorded outputs' to the bit
    threads=1,
    backend=speed.neuron_backend,
)
