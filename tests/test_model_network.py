"""The DCDM network in torch: attention and calibration shapes and masks, sampler
determinism, checkpoint round trip, and a few training steps on real crops."""

import numpy as np
import pytest

from helpers_torch import require_torch

torch = require_torch(with_onnx=False)

from sarcoreg.models.dcdm.config import PRESETS, DcdmConfig  # noqa: E402
from sarcoreg.models.dcdm.losses import gaussian_target, spc_loss, ssim, zncc_torch  # noqa: E402
from sarcoreg.models.dcdm.network import CalibrationBlock, Dcdm, SparseCrossAttention, per_image_conv  # noqa: E402
from sarcoreg.models.dcdm.sampler import translate  # noqa: E402

TINY = DcdmConfig(preset="tiny", latent_ch=4, ae_widths=(8, 8, 8), feat_widths=(8, 8, 8), feat_ch=8, width=16,
                  heads=2, head_dim=4, top_k=5, acb_hidden=2, time_dim=16)


def test_displacement_index_reads_the_shifted_token():
    from reference_attention import displacement_index

    h, w, hr, wr = 3, 4, 5, 7
    idx = displacement_index(h, w, hr, wr).reshape(h, w, hr - h + 1, wr - w + 1)
    y, x, dy, dx = 2, 1, 2, 3
    assert int(idx[y, x, dy, dx]) == (y + dy) * wr + (x + dx)
    assert int(idx.max()) == hr * wr - 1 and int(idx.min()) == 0


def test_sparse_attention_shapes_and_topk_mask():
    torch.manual_seed(0)
    attn = SparseCrossAttention(16, 12, heads=2, head_dim=4, top_k=5, acb_hidden=2).eval()
    x, ref = torch.randn(2, 16, 4, 4), torch.randn(2, 12, 7, 8)
    out, raw, cal = attn(x, ref)
    ny, nx = 7 - 4 + 1, 8 - 4 + 1
    assert out.shape == (2, 2 * 4, 4, 4)
    assert raw.shape == cal.shape == (2, 16, ny * nx)
    torch.testing.assert_close(raw.sum(-1), torch.ones(2, 16))
    torch.testing.assert_close(cal.sum(-1), torch.ones(2, 16))
    # dynamic sparsity: each head keeps top_k entries, so the head mean has at most heads*top_k
    assert int((raw > 1e-6).sum(-1).max()) <= 2 * 5
    assert bool((raw > 1e-6).sum(-1).min() >= 5)


@pytest.mark.parametrize("h, w, hr, wr", [(4, 4, 7, 8), (3, 5, 6, 9), (6, 2, 7, 6), (2, 6, 9, 6), (5, 5, 5, 9),
                                         (3, 14, 5, 19), (2, 24, 4, 27)])
def test_banded_attention_equals_the_dense_reference(h, w, hr, wr):
    """The banded computation (logits per tile of a template row, partial tiles included,
    window by strided re-reading, values placed back into the band, calibration convolutions
    as depthwise groups) equals the dense product + gather of ``reference_attention``, in
    value and in gradient (float64)."""
    from reference_attention import reference_attention

    torch.manual_seed(h * 100 + w * 10 + hr + wr)
    attn = SparseCrossAttention(16, 12, heads=2, head_dim=4, top_k=5, acb_hidden=3).double()
    with torch.no_grad():
        for p in attn.parameters():
            p.add_(0.2 * torch.randn_like(p))
    x = torch.randn(2, 16, h, w, dtype=torch.float64, requires_grad=True)
    ref = torch.randn(2, 12, hr, wr, dtype=torch.float64, requires_grad=True)
    new, old = attn(x, ref), reference_attention(attn, x, ref)
    for a, b in zip(new, old):
        assert a.shape == b.shape
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    weights = [torch.randn_like(t) for t in new]
    wrt = [x, ref] + list(attn.parameters())
    g_new = torch.autograd.grad(sum((t * c).sum() for t, c in zip(new, weights)), wrt)
    g_old = torch.autograd.grad(sum((t * c).sum() for t, c in zip(old, weights)), wrt)
    for a, b in zip(g_new, g_old):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-10)


@pytest.mark.parametrize("n", [1, 16, 37])
def test_per_image_conv_equals_the_convolution_block(n):
    torch.manual_seed(n)
    acb = CalibrationBlock(2).double()
    with torch.no_grad():
        for p in acb.parameters():
            p.add_(0.3 * torch.randn_like(p))
    x = torch.randn(n, 1, 5, 7, dtype=torch.float64)
    torch.testing.assert_close(per_image_conv(acb.disp, x), acb.disp(x), rtol=0, atol=1e-12)


def test_calibration_block_uses_the_global_prior():
    torch.manual_seed(0)
    acb = CalibrationBlock(2)
    with torch.no_grad():
        for p in acb.parameters():
            p.zero_()
        acb.gains[2] = 1.0            # only the global displacement prior
    h = w = 3
    ny = nx = 3
    att = torch.full((1, h * w, ny * nx), 0.01)
    att[:, :, 4] = 1.0                # every query agrees on displacement 4 ...
    att[:, 0, :] = 0.01
    att[:, 0, 7] = 1.0                # ... but one query prefers 7
    att = att / att.sum(-1, keepdim=True)
    cal = acb(att, h, w, ny, nx)
    assert cal.shape == att.shape
    torch.testing.assert_close(cal.sum(-1), torch.ones(1, h * w))
    assert float(cal[0, 0, 4].detach()) > float(att[0, 0, 4])    # the outlier query is pulled to the consensus
    assert int(cal[0, 1:].argmax(-1).unique()) == 4


def test_losses():
    a = torch.randn(2, 1, 32, 32)
    torch.testing.assert_close(ssim(a, a), torch.ones(2))
    ref = torch.randn(2, 1, 48, 48)
    t = ref[:, :, 5:37, 9:41].clone()
    s = zncc_torch(t, ref)
    assert s.shape == (2, 17, 17)
    assert int(s[0].argmax()) == 5 * 17 + 9
    assert abs(float(s[0, 5, 9]) - 1) < 1e-4
    g = gaussian_target((5, 5), torch.tensor([[2.0, 3.0]]), 0.6)
    assert int(g.flatten(1).argmax()) == 2 * 5 + 3
    att = g.flatten(1)[:, None].expand(1, 4, 25)
    truth = torch.tensor([[16.0, 24.0]])          # (2, 3) cells
    assert float(spc_loss(att, truth, 5, 5)) < float(spc_loss(att.flip(-1), truth, 5, 5))


def test_sampler_is_deterministic_and_checkpoint_round_trips(tmp_path):
    from sarcoreg.models.dcdm.train import load_model, save_checkpoint

    torch.manual_seed(1)
    model = Dcdm(TINY).eval()
    tm, rf = torch.randn(1, 1, 32, 32), torch.randn(1, 1, 64, 64)
    with torch.no_grad():
        a = translate(model, tm, rf)
        b = translate(model, tm, rf)
    assert a.image.shape == (1, 1, 32, 32) and a.att_cal.shape == (1, 16, 25)
    torch.testing.assert_close(a.image, b.image, rtol=0, atol=0)
    path = tmp_path / "ck.pt"
    save_checkpoint(path, model, None, {"step": 3})
    again, ck = load_model(str(path))
    assert ck["step"] == 3
    with torch.no_grad():
        c = translate(again, tm, rf)
    torch.testing.assert_close(a.image, c.image, rtol=0, atol=0)


def test_presets_parameter_counts():
    cpu = Dcdm(PRESETS["cpu"]).parameter_counts()
    paper = Dcdm(PRESETS["paper"]).parameter_counts()
    assert cpu[0] < 2_000_000
    assert 19e6 < paper[0] < 23e6 and 5.0e6 < paper[1] < 6.2e6, paper


@pytest.mark.shared_data
@pytest.mark.slow
def test_losses_go_down_on_real_crops(shared_data):
    """A few steps on a fixed real batch lower the training loss (the model can fit)."""
    from sarcoreg.models.dcdm.data import PairBank, find_pairs
    from sarcoreg.models.dcdm.losses import matching_loss
    from sarcoreg.models.dcdm.sampler import sample_latent

    torch.manual_seed(0)
    bank = PairBank(find_pairs(str(shared_data), "train")[:2], seed=0)
    tm, rf, st, truth = (torch.from_numpy(a) for a in bank.batch(2, 96, 64, augment=False))
    model = Dcdm(TINY)
    for p in model.ae.parameters():
        p.requires_grad_(False)
    params = [p for n, p in model.named_parameters() if not n.startswith("ae.")]
    opt = torch.optim.Adam(params, lr=3e-3)

    def loss_fn():
        opt_feat, attended, _, att = model.condition(tm, rf)
        x0 = sample_latent(model, opt_feat, attended, grad_last_only=True)
        dec = model.ae.decode(x0)
        return (matching_loss(zncc_torch(dec, rf), truth, 30.0) + (1 - ssim(dec, st).mean())
                + 0.2 * spc_loss(att, truth, 5, 5))

    first = float(loss_fn())
    for _ in range(12):
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss_fn()) < first


@pytest.mark.shared_data
def test_finetune_starts_from_the_weights_and_then_resumes(shared_data, tmp_path):
    """`sarcoreg train --finetune CK`: all weights from CK, auto-encoder frozen, steps count on,
    the new crop size and learning rate are kept in the checkpoint, and a resume goes on from it."""
    from sarcoreg.models.dcdm.config import TrainConfig
    from sarcoreg.models.dcdm.train import RunOptions, load_model, save_checkpoint, train

    torch.manual_seed(2)
    base = Dcdm(TINY)
    save_checkpoint(tmp_path / "base.pt", base, None, {"phase": "dcdm", "step": 5, "ae_step": 7})
    out = tmp_path / "ft"
    tcfg = TrainConfig(window_px=64, template_px=32, batch=1, steps=7, lr=1e-4, match_warmup=(0.0, 0.0))
    train(RunOptions(str(shared_data), str(out), finetune=str(tmp_path / "base.pt"), dev_samples=6,
                     dev_every=1000, checkpoint_every=1, threads=1), tcfg, log=lambda s: None)
    model, ck = load_model(str(out / "last.pt"))
    assert ck["step"] == 7 and ck["ae_step"] == 7 and ck["phase"] == "dcdm"
    assert ck["finetuned_from"] == str(tmp_path / "base.pt")
    assert ck["train"]["window_px"] == 64 and ck["train"]["lr"] == 1e-4
    b, m = base.state_dict(), model.state_dict()
    assert all(torch.equal(b[k], m[k]) for k in b if k.startswith("ae."))          # frozen
    assert any(not torch.equal(b[k], m[k]) for k in b if not k.startswith("ae."))  # trained
    # a resume continues that run (its settings come from the checkpoint)
    ck_last = torch.load(out / "last.pt", map_location="cpu", weights_only=False)
    ck_last["train"]["steps"] = 8
    torch.save(ck_last, out / "last.pt")
    lines = []
    train(RunOptions(str(shared_data), str(out), resume=True, dev_samples=6, dev_every=1000, threads=1,
                     time_budget_min=120), log=lines.append)
    _, ck2 = load_model(str(out / "last.pt"))
    assert ck2["step"] == 8 and ck2["finetuned_from"] == str(tmp_path / "base.pt")
    # resumed with twice the time budget: the schedule goes on from where it stood
    assert any("time budget now 120 min: the learning-rate schedule goes on from 0 %" in s for s in lines), lines
    assert ck2["budget_s"] == 7200.0 and ck2["schedule_from"][0] == pytest.approx(ck["elapsed_s"])


def test_a_resume_with_another_budget_goes_on_down_the_schedule():
    """No warm restart: a run resumed with a larger (or smaller) time budget keeps its learning
    rate where it was and decays it to the end over the time left."""
    from sarcoreg.models.dcdm.train import rebudget, schedule_fraction

    assert schedule_fraction(900, 3600) == 0.25 and schedule_fraction(5000, 3600) == 1.0
    state = {"elapsed_s": 1800.0, "budget_s": 3600.0, "schedule_from": None}
    assert not rebudget(state, 3600.0) and state["schedule_from"] is None       # same budget: as before
    assert rebudget(state, 7200.0)
    at = lambda t: schedule_fraction(t, state["budget_s"], state["schedule_from"])  # noqa: E731
    assert at(1800) == pytest.approx(0.5)            # continuous where it was (plain: 0.25, a jump back up)
    assert at(4500) == pytest.approx(0.75) and at(7200) == pytest.approx(1.0)
    times = np.linspace(1800, 7200, 50)
    assert np.all(np.diff([at(t) for t in times]) > 0)
    # a second change goes on from the second schedule
    state["elapsed_s"] = 4500.0
    assert rebudget(state, 5400.0)
    assert at(4500) == pytest.approx(0.75) and at(5400) == pytest.approx(1.0)
    # a run saved before the budget was recorded keeps elapsed / budget
    old = {"elapsed_s": 1800.0, "budget_s": None, "schedule_from": None}
    assert not rebudget(old, 7200.0) and old["budget_s"] == 7200.0


def test_stripe_loss_sees_horizontal_stripes_and_its_gradient_removes_them():
    from sarcoreg.models.dcdm.losses import anisotropy, stripe_loss

    g = torch.Generator().manual_seed(0)
    sar = torch.randn(2, 1, 64, 64, generator=g)
    striped = (sar + 2.0 * torch.randn(2, 1, 64, 1, generator=g)).requires_grad_(True)
    assert float(stripe_loss(sar, sar)) == 0.0
    assert float(anisotropy(striped).min()) > 0.5 > float(anisotropy(sar).abs().max())
    before = float(stripe_loss(striped, sar))
    opt = torch.optim.Adam([striped], lr=0.05)
    for _ in range(40):
        opt.zero_grad()
        stripe_loss(striped, sar).backward()
        opt.step()
    assert float(stripe_loss(striped, sar)) < 0.5 * before


def test_a_narrower_matching_target_asks_more_of_a_peak_one_pixel_off():
    from sarcoreg.models.dcdm.losses import matching_loss

    truth = torch.tensor([[8.3, 7.6]])
    rows, cols = torch.meshgrid(torch.arange(17.0), torch.arange(17.0), indexing="ij")

    def peak_at(r, c):
        return torch.exp(-((rows - r) ** 2 + (cols - c) ** 2) / 4.0)[None]

    def penalty(sigma):
        return float(matching_loss(peak_at(9.3, 7.6), truth, 30.0, sigma)
                     - matching_loss(peak_at(8.3, 7.6), truth, 30.0, sigma))

    assert penalty(1.0) > 0 and penalty(0.5) > 1.5 * penalty(1.0)
