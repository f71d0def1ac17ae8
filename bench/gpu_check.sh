#!/usr/bin/env bash
# Everything that needs a GPU, in one run of under 10 minutes, each part with a time
# limit of its own so that one that hangs cannot take the others' time:
#   1. the GPU's name, driver and CUDA version;
#   2. every GPU test (the small paper grid on the GPU in bf16 among them), and the
#      nvcc compile test of the neuron kernels;
#   3. bench/train_step.py at the grid's full shapes: spikecut's training step against
#      a plain SpikingJelly loop at every precision, and the grid's GPU-hours;
#   4. bench/neurons.py: the neuron kernels against SpikingJelly's Triton and torch
#      paths;
#   5. torch.compile on the VGG SNN step (compiling takes minutes, so it comes last).
# Logs and the Markdown reports go to $OUT (default results/gpu). Wheels in .whl/
# (`make gpu-wheels`) are installed first, for a machine without internet.
set -uo pipefail
out=${OUT:-results/gpu}
mkdir -p "$out"
exec > >(tee "$out/check.log") 2>&1
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/spikecut-site \
        .whl/*.whl || exit 1
    export PYTHONPATH="$PYTHONPATH:/tmp/spikecut-site"
fi
status=0
step() {  # step NAME SECONDS COMMAND...: run it, note its exit status
    local name=$1 limit=$2
    shift 2
    echo "=== $name (limit ${limit} s) ==="
    local start=$SECONDS
    timeout -k 10 "$limit" "$@"
    local rc=$?
    echo "=== $name: exit $rc after $((SECONDS - start)) s ==="
    [ "$rc" -eq 0 ] || status=1
}

{
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
    python3 -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda)"
} | tee "$out/gpu.txt"
step "GPU tests" 200 python3 -m pytest -m gpu -q -p no:cacheprovider -rs tests/ \
    --junitxml="$out/gpu_tests.xml"
step "nvcc compile test" 50 python3 -m pytest -q -p no:cacheprovider \
    tests/test_fused.py::test_kernels_compile_for_sm90
step "training step and grid price" 160 python3 bench/train_step.py --out "$out/train_step.md"
step "neuron kernels" 80 python3 bench/neurons.py --out "$out/neurons.md"
step "torch.compile" 60 python3 bench/train_step.py --only "VGG SNN, 32x32" \
    --precisions bf16 --compile --skip-price --out "$out/compile.md"
echo "gpu check exit $status"
exit $status
