"""The skip rule of the tests that need torch (training, export, recovery)."""
import sys
from pathlib import Path

import pytest

# scripts/setup.sh --with-torch leaves .venv/.sarcoreg-no-torch saying why, where no CPU build of
# torch can be installed (PyPI has only CUDA builds for Linux)
_NO_TORCH = Path(sys.prefix) / ".sarcoreg-no-torch"


def require_torch(with_onnx: bool = False):
    """``torch``, or skip the calling test module with the reason set-up left."""
    torch = pytest.importorskip("torch", reason=_NO_TORCH.read_text().strip() if _NO_TORCH.exists()
                                else "torch is not installed (scripts/setup.sh --with-torch)")
    if with_onnx:
        pytest.importorskip("onnx", reason="onnx is not installed (scripts/setup.sh --with-torch)")
    return torch
