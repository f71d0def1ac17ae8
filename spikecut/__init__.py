"""spikecut: anytime spiking neural networks with the RCS regulariser and Top-K cutoff."""

__version__ = "0.1.0"
