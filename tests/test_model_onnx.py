"""torch → ONNX export: ONNX Runtime reproduces the torch translation and the same peak."""

import numpy as np
import pytest

from helpers_torch import require_torch

torch = require_torch(with_onnx=True)

from sarcoreg.core.dcdm.matcher import DcdmMatcher  # noqa: E402
from sarcoreg.core.matchers.kernels import peak_subpixel, zncc_surface  # noqa: E402
from sarcoreg.core.dcdm.contract import prepare  # noqa: E402
from sarcoreg.models.dcdm.config import DcdmConfig  # noqa: E402
from sarcoreg.models.dcdm.export import export, reference_translation  # noqa: E402
from sarcoreg.models.dcdm.network import Dcdm  # noqa: E402

SMALL = DcdmConfig(preset="test", latent_ch=4, ae_widths=(8, 8, 16), feat_widths=(8, 8, 16), feat_ch=8, width=16,
                   heads=2, head_dim=4, top_k=8, acb_hidden=2, time_dim=16)
# float32 graphs, different kernels: the translated template agrees to this absolute
# tolerance (values are in normalised SAR units, about unit variance)
TRANSLATION_ATOL = 1e-3


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    model = Dcdm(SMALL).eval()
    dirs = {}
    for layout in ("loop", "unrolled"):
        d = tmp_path_factory.mktemp(layout)
        export(model, {"data_summary": "random weights", "step": 0}, str(d), 256, 192, layout)
        dirs[layout] = d
    return model, dirs


def _pair(seed=0, R=256, T=192, oy=21, ox=40):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((R, R)).cumsum(0).cumsum(1)
    reference = (base / base.std() * 3 - 12).astype(np.float32)
    template = (-reference[oy:oy + T, ox:ox + T] * 0.5 + 7).astype(np.float32)
    return template, reference


@pytest.mark.parametrize("layout", ["loop", "unrolled"])
@pytest.mark.parametrize("sizes", [(256, 192), (512, 384), (200, 144)])
def test_onnx_matches_torch(exported, layout, sizes):
    model, dirs = exported
    R, T = sizes
    template, reference = _pair(R=R, T=T, oy=(R - T) // 3, ox=(R - T) // 2)
    m = DcdmMatcher(provider="cpu", model_dir=str(dirs[layout]))
    tr = m.translate(template, reference)
    t_used = tr.image.shape[0]
    r_used = t_used + ((R - t_used) // 8) * 8
    img, raw, cal = reference_translation(model, template[:t_used, :t_used], reference[:r_used, :r_used])
    np.testing.assert_allclose(tr.image, img, atol=TRANSLATION_ATOL)
    # top-k keeps the k largest logits: a near-tie may flip between the two runtimes for a
    # few entries, so compare in aggregate
    assert float(np.abs(tr.att_cal - cal).mean()) < 1e-4
    assert float(np.mean(tr.att_cal.argmax(-1) == cal.argmax(-1))) > 0.99
    onnx_peak = peak_subpixel(zncc_surface(tr.image, prepare(reference)))
    torch_peak = peak_subpixel(zncc_surface(img, prepare(reference)))
    assert abs(onnx_peak[0] - torch_peak[0]) <= 0.1 and abs(onnx_peak[1] - torch_peak[1]) <= 0.1
    match = m.match(template, reference)
    assert match.ok and match.similarity.shape == (R - T + 1, R - T + 1)
    assert match.translated.shape == template.shape


def test_metadata_carries_the_contract(exported):
    import onnx

    _, dirs = exported
    props = {p.key: p.value for p in onnx.load(str(dirs["loop"] / "dcdm_denoiser.onnx")).metadata_props}
    assert props["model_version"].startswith("dcdm-0.")
    assert props["graph"] == "denoiser" and props["window_px"] == "256" and props["template_px"] == "192"
    assert '"sample_steps": 5' in props["schedule"]
    assert "random weights" in props["training_data"]
