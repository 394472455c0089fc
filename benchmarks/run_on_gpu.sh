#!/usr/bin/env bash
# The benchmarks that take a torch device, once on a GPU: geodl's graph layers
# beside PyG's on the same GPU, then disparity estimation and view synthesis
# with the views on the GPU. Each run has its own time limit; all of them
# together stay under 8 minutes (rendering the one room they need included).
#
#     benchmarks/run_on_gpu.sh [OUT]      # OUT: where the logs go (default build/gpu_runs)
#
# PYTHON chooses the interpreter (default .venv/bin/python); it needs torch
# with CUDA, torch_geometric, and geodl importable from this checkout.
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${1:-build/gpu_runs}
mkdir -p "$OUT"
"$PY" -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device')" || exit 2
"$PY" -c "import torch; print('torch', torch.__version__, 'on', torch.cuda.get_device_name(0))" \
    | tee "$OUT/device.txt"

status=0
run() {  # run NAME SECONDS SCRIPT ARGS...: one benchmark, its log in OUT/NAME.txt
    local name=$1 limit=$2
    shift 2
    echo "== $name (at most $limit s)"
    timeout "$limit" "$PY" "$@" 2>&1 | tee "$OUT/$name.txt"
    local rc=${PIPESTATUS[0]}
    [ "$rc" -eq 0 ] || { echo "== $name: exit $rc (124: over its limit)"; status=1; }
}

run spectral_conv 90 benchmarks/bench_spectral_conv.py --device cuda --repeats 3
run message_passing 90 benchmarks/bench_message_passing.py --device cuda --repeats 3
# benchmark room 9000 (rendered once into datasets/cache when missing); no peers:
# they run on the CPU in environments of their own
run depth 160 benchmarks/bench_depth.py --device cuda --rounds 2 --peers \
    --methods cost_volume structure_tensor refine_net
run synthesis 120 benchmarks/bench_synthesis.py --device cuda --rounds 2
exit $status
