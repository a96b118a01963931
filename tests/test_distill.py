"""A lighter decoder taught by the model's own decoder (``models/dcdm/distill.py``) and the
``light`` variant made from an exported model (``models/dcdm/optimize.make_light``)."""
import json

import numpy as np
import pytest

from helpers_torch import require_torch

torch = require_torch(with_onnx=True)

from sarcoreg.models.dcdm.config import DcdmConfig  # noqa: E402
from sarcoreg.models.dcdm.distill import distill_decoder, student_decoder, student_encoder  # noqa: E402
from sarcoreg.models.dcdm.network import Dcdm, Decoder, Encoder  # noqa: E402
from sarcoreg.models.dcdm.train import load_model  # noqa: E402

SMALL = DcdmConfig(preset="test", latent_ch=4, ae_widths=(8, 8, 16), feat_widths=(8, 8, 16), feat_ch=8, width=16,
                   heads=2, head_dim=4, top_k=8, acb_hidden=2, time_dim=16)


def _teacher(seed: int = 0) -> Dcdm:
    torch.manual_seed(seed)
    model = Dcdm(SMALL).eval()
    with torch.no_grad():     # as trained weights are: no exact ones and zeros (the export folds those)
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return model


def test_decoder_levels_and_config_round_trip():
    full = Decoder(SMALL.ae_widths, SMALL.latent_ch, 1)
    light = Decoder(SMALL.ae_widths, SMALL.latent_ch, 1, (1, 1, 0))
    assert [len(level) for level in full.ups] == [2, 2, 2] and [len(level) for level in light.ups] == [2, 2, 1]
    assert sum(p.numel() for p in light.parameters()) < sum(p.numel() for p in full.parameters())
    with pytest.raises(ValueError, match="one count per level"):
        Decoder(SMALL.ae_widths, SMALL.latent_ch, 1, (1, 0))
    cfg = DcdmConfig.from_dict(json.loads(json.dumps({**SMALL.to_dict(), "dec_res": [1, 1, 0]})))
    assert cfg.dec_res == (1, 1, 0) and [len(level) for level in Dcdm(cfg).ae.dec.ups] == [2, 2, 1]
    # checkpoints from before the settings load with the full decoder and encoder
    old = {k: v for k, v in SMALL.to_dict().items() if k not in ("dec_res", "enc_res")}
    assert DcdmConfig.from_dict(old).dec_res == () and DcdmConfig.from_dict(old).enc_res == ()
    enc = Encoder(SMALL.ae_widths, SMALL.latent_ch, 1, level_res=(0, 1, 1))
    assert [len(level) for level in enc.levels] == [1, 2, 2]
    cfg = DcdmConfig.from_dict({**SMALL.to_dict(), "enc_res": [0, 0, 1]})
    assert [len(level) for level in Dcdm(cfg).ae.enc.levels] == [1, 1, 2]
    with pytest.raises(ValueError, match="one count per level"):
        Encoder(SMALL.ae_widths, SMALL.latent_ch, 1, level_res=(1,))


def test_student_starts_from_the_teachers_weights():
    teacher = _teacher().ae.dec
    same = student_decoder(teacher, SMALL, (1, 1, 1))
    z = torch.randn(2, SMALL.latent_ch, 6, 6)
    with torch.no_grad():
        np.testing.assert_array_equal(same(z).numpy(), teacher(z).numpy())
    light = student_decoder(teacher, SMALL, (1, 1, 0))
    # the level without its residual block keeps the teacher's last convolution of that level
    np.testing.assert_array_equal(light.ups[2][0].weight.detach().numpy(), teacher.ups[2][1].weight.detach().numpy())
    np.testing.assert_array_equal(light.ups[1][0].c1.weight.detach().numpy(), teacher.ups[1][0].c1.weight.detach().numpy())
    enc_teacher = _teacher().ae.enc
    x = torch.randn(2, 1, 48, 48)
    with torch.no_grad():
        np.testing.assert_array_equal(student_encoder(enc_teacher, SMALL, (1, 1, 1))(x).numpy(), enc_teacher(x).numpy())
    light_enc = student_encoder(enc_teacher, SMALL, (0, 1, 1))
    np.testing.assert_array_equal(light_enc.levels[0][0].weight.detach().numpy(),
                                  enc_teacher.levels[0][0].weight.detach().numpy())


@pytest.mark.shared_data
def test_distillation_brings_the_student_closer_to_the_teacher(shared_data, tmp_path):
    model = _teacher(1)
    ck = {"config": SMALL.to_dict(), "model": model.state_dict(), "step": 7, "train": {}}
    torch.save(ck, tmp_path / "teacher.pt")
    record = distill_decoder(str(tmp_path / "teacher.pt"), str(tmp_path / "student.pt"), (1, 1, 0), str(shared_data),
                             minutes=0.5, n_windows=8, window_px=128, template_px=96, max_pairs=6,
                             log=lambda s: None, enc_res=(0, 1, 1))
    student, sck = load_model(str(tmp_path / "student.pt"))
    assert sck["config"]["dec_res"] == [1, 1, 0] or tuple(sck["config"]["dec_res"]) == (1, 1, 0)
    assert tuple(sck["config"]["enc_res"]) == (0, 1, 1)
    assert sck["distilled"] == record and record["steps"] > 0 and sck["step"] == 7
    # everything but the auto-encoder's decoder and encoder is the teacher's
    for name, value in student.state_dict().items():
        if not name.startswith(("ae.dec.", "ae.enc.")):
            np.testing.assert_array_equal(value.numpy(), model.state_dict()[name].numpy(), err_msg=name)
    # on held-out crops of the latents it learned from (teacher's DDIM latents, SAR latents)
    assert record["rmse_to_teacher"] < 0.8 * record["rmse_before"], record
    assert record["encoder"]["rmse_to_teacher"] < 0.8 * record["encoder"]["rmse_before"], record


@pytest.mark.shared_data
def test_light_variant_from_an_exported_model(shared_data, tmp_path):
    """``optimize.make_light``: from the float32 file alone (recovered, distilled, exported)
    to a variant the runtime opens, with fewer convolutions and the source's contract."""
    import onnx

    from sarcoreg.core.dcdm.matcher import DcdmMatcher
    from sarcoreg.core.dcdm.runtime import UNROLLED_FILE, file_sha256, variant_path
    from sarcoreg.models.dcdm.export import export
    from sarcoreg.models.dcdm.optimize import _write_metadata, make_light

    model = _teacher(2)
    src = export(model, {"config": SMALL.to_dict(), "step": 11}, str(tmp_path / "m"), 256, 192,
                 matching={"fuse_classical": 0.5, "classical": {"matcher": "cfog", "options": {}}})[0]
    out = variant_path(src, "light")
    make_light(src, out, str(shared_data), minutes=0.1, level_res=(1, 1, 0), log=lambda s: None,
               max_pairs=6, enc_res=())
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    base = {p.key: p.value for p in onnx.load(str(src)).metadata_props}
    assert json.loads(meta["config"])["dec_res"] == [1, 1, 0]
    assert json.loads(meta["decoder"])["level_res"] == [1, 1, 0]
    assert meta["model_version"] == base["model_version"] and meta["matching"] == base["matching"]
    convs = lambda p: sum(n.op_type == "Conv" for n in onnx.load(str(p)).graph.node)  # noqa: E731
    assert convs(out) == convs(src) - 2          # the full-resolution residual block's two convolutions
    _write_metadata(out, out, {"parity_gate": json.dumps({"passed": True, "ship": True,
                                                          "reference_sha256": file_sha256(src)})})
    m = DcdmMatcher(provider="cpu", model_dir=str(src.parent))
    assert m.precision == "light" and (src.parent / UNROLLED_FILE).is_file()
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(96, 96)).astype(np.float32)
    res = m.match(ref[16:80, 16:80].copy(), ref)
    assert res.translated is not None and res.translated.shape == (64, 64)
