"""Spiking neuron factory. Every neuron is a SpikingJelly node in multi-step mode."""

from spikecut.neurons.factory import BACKENDS, NeuronConfig, make_neuron, resolve_backend
from spikecut.neurons.surrogates import Triangle, make_surrogate

__all__ = [
    "BACKENDS",
    "NeuronConfig",
    "Triangle",
    "make_neuron",
    "make_surrogate",
    "resolve_backend",
]
