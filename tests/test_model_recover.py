"""A trainable checkpoint recovered from a DCDM ONNX file exports back to the same model, and
training can start from it (``models/dcdm/recover.py``)."""

import numpy as np
import pytest

from helpers_torch import require_torch

torch = require_torch(with_onnx=True)

from sarcoreg.core.errors import ModelError  # noqa: E402
from sarcoreg.models.dcdm.config import DcdmConfig  # noqa: E402
from sarcoreg.models.dcdm.export import export  # noqa: E402
from sarcoreg.models.dcdm.network import Dcdm  # noqa: E402
from sarcoreg.models.dcdm.recover import check_parity, recover  # noqa: E402

SMALL = DcdmConfig(preset="test", latent_ch=4, ae_widths=(8, 8, 16), feat_widths=(8, 8, 16), feat_ch=8, width=16,
                   heads=2, head_dim=4, top_k=8, acb_hidden=2, time_dim=16)


def _trained_like(seed: int) -> Dcdm:
    """Random weights everywhere, the norms' and gains' too (a fresh model has ones and zeros
    there, which a wrong recovery could reproduce by accident)."""
    torch.manual_seed(seed)
    model = Dcdm(SMALL).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return model


def test_recovered_weights_equal_the_exported_ones(tmp_path):
    model = _trained_like(3)
    onnx_path = export(model, {"config": SMALL.to_dict(), "step": 42}, str(tmp_path / "ship"), 256, 192)[0]
    recovered, ck = recover(str(onnx_path), str(tmp_path))
    assert ck["step"] == 42 and ck["phase"] == "dcdm"
    want = model.state_dict()
    for name, value in recovered.state_dict().items():
        np.testing.assert_allclose(value.numpy(), want[name].numpy(), atol=1e-6, err_msg=name)
    # the checkpoint loads into a fresh model as training's --finetune does
    fresh = Dcdm(DcdmConfig.from_dict(ck["config"]))
    fresh.load_state_dict(ck["model"])


def test_a_different_model_fails_the_parity_check(tmp_path):
    model = _trained_like(3)
    onnx_path = export(model, {"config": SMALL.to_dict(), "step": 1}, str(tmp_path / "ship"), 256, 192)[0]
    other = _trained_like(4)
    with pytest.raises(ModelError, match="differs"):
        check_parity(other, {"config": SMALL.to_dict()}, str(onnx_path), tmp_path / "check")
