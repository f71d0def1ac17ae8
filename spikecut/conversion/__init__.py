"""ANN-to-SNN conversion: QCFS activations and their IF-neuron replacements."""

from spikecut.conversion.convert import ConvertedIFNode, convert_qcfs_to_snn
from spikecut.conversion.qcfs import QCFS

__all__ = ["QCFS", "ConvertedIFNode", "convert_qcfs_to_snn"]
