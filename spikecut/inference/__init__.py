"""Running a trained network for inference: one pass over T steps
(:mod:`~spikecut.inference.run`), recording per-step outputs and compute
(:mod:`~spikecut.inference.recording`, :mod:`~spikecut.inference.compute`), and inference
that really stops (:mod:`~spikecut.inference.early_exit`), all attached to the model
through :mod:`~spikecut.inference.hooks`."""
