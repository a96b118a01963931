"""The learned models: their ONNX files and, in sub-packages, the code that trains them.

Training code may import torch (installed only by ``scripts/setup.sh --with-torch``);
``sarcoreg.core`` never imports this package's training code, it runs the exported ONNX
files with ONNX Runtime. The model's contract (window sizes, normalisation, diffusion
steps, version) travels in each ONNX file's metadata.
"""
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parent
