#!/usr/bin/env bash
# The GPU checks in one call of a lent GPU machine (docs/benchmarks.md, "On a GPU"):
# the CUDA tests, the GPU throughput benchmark, then the whole test suite with CUDA visible.
#
#   benchmarks/gpu_checks.sh OUT_DIR [WHEEL_DIR]
#
# The machine's own Python (with a CUDA build of torch) is used as it is; WHEEL_DIR holds
# wheels of rnnkit's dependencies that it lacks (nltk, simplemma, gensim, ...).
set -u
out=${1:?usage: gpu_checks.sh OUT_DIR [WHEEL_DIR]}
wheels=${2:-}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
if [ -n "$wheels" ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
        --target /tmp/site "$wheels"/*.whl || exit 1
    export PYTHONPATH=/tmp/site
fi
python3 -m pip install -q --no-deps --no-build-isolation -e . >"$out/install.log" 2>&1 \
    || { tail "$out/install.log"; exit 1; }
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda,
    'cudnn', torch.backends.cudnn.version(), torch.cuda.get_device_name())"

echo "== CUDA tests"
python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py tests/test_contract.py \
    2>&1 | tee "$out/pytest-cuda.log" | tail -25

echo "== GPU throughput"
python3 -m benchmarks.bench_gpu --json "$out/gpu-core.json" --modes "${MODES:-float32,bf16}" \
    2>&1 | tee "$out/bench-gpu.log"

echo "== whole suite, CUDA visible"
# SIGINT at the time limit: pytest then still prints the failures so far.
timeout -s INT "${SUITE_SECONDS:-300}" python3 -m pytest -q -p no:cacheprovider -n 12 -rfE \
    --ignore=tests/test_cuda.py >"$out/pytest-all.log" 2>&1
echo "suite exit $?"
grep -E "^(FAILED|ERROR)|passed|failed" "$out/pytest-all.log" | tail -40
