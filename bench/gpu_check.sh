#!/usr/bin/env bash
# Everything issue 5 verifies on a CUDA machine, in one run: the GPU tests of the neuron
# kernels, then bench/neurons.py. Logs and the benchmark's Markdown table go to $OUT
# (default results/gpu). Wheels in .whl/ (`make gpu-wheels`) are installed first, for a
# machine without internet.
set -uo pipefail
out=${OUT:-results/gpu}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/spikecut-site \
        .whl/*.whl || exit 1
    export PYTHONPATH="$PYTHONPATH:/tmp/spikecut-site"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt"
python3 -m pytest -m gpu -q -p no:cacheprovider tests/test_cupy_nodes.py \
    tests/test_neurons.py 2>&1 | tee "$out/gpu_tests.log"
tests=$?
python3 bench/neurons.py --out "$out/neurons.md" 2>&1 | tee "$out/bench.log"
bench=$?
echo "gpu tests exit $tests, benchmark exit $bench"
exit $((tests || bench))
