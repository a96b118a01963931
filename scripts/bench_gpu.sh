#!/usr/bin/env bash
# Measure the shipped DCDM model on an NVIDIA GPU, on a machine where nothing is set up:
#   1. a virtual environment (.venv-gpu in the repository root, or $BENCH_GPU_VENV) with
#      onnxruntime-gpu (with the CUDA / cuDNN wheels), numpy and rasterio from PyPI, and this
#      repository installed into it (no QGIS, no Debian GDAL needed);
#   2. scripts/bench_gpu.py: real val windows of ../shared/data/s1s2_la matched in batches on
#      the CUDA provider; prints seconds per window, peak GPU memory, and the parity with the
#      CPU provider on the same windows.
# Needs: python3 (3.10+, with venv), an NVIDIA driver (nvidia-smi), network access to PyPI
# (or a pip wheelhouse configured), the shared data folder. About 2-4 minutes, most of it
# the download.
#
# usage: bash scripts/bench_gpu.sh [--data DIR] [--samples 64] [--batch 16] [--cpu-samples 16]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${BENCH_GPU_VENV:-$REPO/.venv-gpu}"
PY="${PYTHON:-python3}"
log() { printf 'bench_gpu: %s\n' "$*" >&2; }

command -v nvidia-smi >/dev/null || { log "nvidia-smi not found: no NVIDIA driver on this machine"; exit 1; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2
if [[ ! -x $VENV/bin/python ]]; then
    log "creating $VENV"
    "$PY" -m venv "$VENV" || { log "$PY -m venv failed: install python3-venv (Debian/Ubuntu) or use another python via PYTHON=..."; exit 1; }
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip setuptools >/dev/null
if ! "$VENV/bin/python" -c 'import onnxruntime, numpy, rasterio' 2>/dev/null; then
    log "installing onnxruntime-gpu (with CUDA and cuDNN wheels), numpy, rasterio"
    # never next to the CPU-only onnxruntime: the two overwrite each other
    "${PIP[@]}" uninstall -y onnxruntime >/dev/null 2>&1 || true
    "${PIP[@]}" install "onnxruntime-gpu[cuda,cudnn]" numpy rasterio \
        || "${PIP[@]}" install onnxruntime-gpu numpy rasterio
fi
"${PIP[@]}" install --no-deps --no-build-isolation -e "$REPO" >/dev/null
log "running scripts/bench_gpu.py $*"
cd "$REPO"
exec "$VENV/bin/python" scripts/bench_gpu.py "$@"
