"""The DCDM matcher on ONNX Runtime alone (no torch): registry, contract, providers, a real
match, and a run with the torch import blocked."""
import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")

from sarcoreg.core.dcdm.contract import NORMALISATION, read_contract  # noqa: E402
from sarcoreg.core.dcdm.matcher import MODEL_DIR_ENV, DcdmMatcher, available, default_model_dir  # noqa: E402
from sarcoreg.core.errors import InputError, ModelError  # noqa: E402
from sarcoreg.core.matchers import get_matcher, matcher_names  # noqa: E402

needs_model = pytest.mark.skipif(not available(), reason=f"no DCDM ONNX model in {default_model_dir()} "
                                 "(run `sarcoreg export-onnx`)")


def _props(**over):
    props = {"model_version": "dcdm-0.1", "graph": "denoiser", "stride_px": "8", "grid_px": "16",
             "latent_ch": "8", "time_dim": "64", "top_k": "16", "normalisation": NORMALISATION,
             "schedule": json.dumps({"train_steps": 1000, "beta_start": 1e-4, "beta_end": 0.02,
                                     "sample_steps": 5, "noise_seed": 1})}
    props.update(over)
    return props


def test_contract_is_checked():
    c = read_contract(_props(), "x.onnx")
    assert c.schedule.sample_steps == 5 and c.min_search_cells == 4
    with pytest.raises(ModelError, match="version"):
        read_contract(_props(model_version="dcdm-9"), "x.onnx")
    with pytest.raises(ModelError, match="normalisation"):
        read_contract(_props(normalisation="min-max"), "x.onnx")
    with pytest.raises(ModelError, match="lacks schedule"):
        read_contract({k: v for k, v in _props().items() if k != "schedule"}, "x.onnx")
    with pytest.raises(ModelError, match="invalid"):
        read_contract(_props(schedule='{"sample_steps": 0}'), "x.onnx")


def test_missing_model_files_hide_dcdm_and_raise_model_error(tmp_path, monkeypatch):
    monkeypatch.setenv(MODEL_DIR_ENV, str(tmp_path))
    assert "dcdm" not in matcher_names()
    with pytest.raises(ModelError, match="missing"):
        get_matcher("dcdm")
    with pytest.raises(ModelError, match="export-onnx"):
        DcdmMatcher(model_dir=str(tmp_path))


@needs_model
def test_registry_lists_dcdm_and_reports_provider():
    assert "dcdm" in matcher_names()
    m = get_matcher("dcdm", provider="auto")
    assert m.name == "dcdm" and m.model_version.startswith("dcdm-0.")
    assert m.provider in ("cuda", "cpu")
    if m.provider == "cpu":
        assert m.provider_note
    cpu = DcdmMatcher(provider="cpu")
    assert cpu.provider == "cpu" and cpu.provider_note == "CPU requested"
    with pytest.raises(InputError):
        DcdmMatcher(provider="tpu")


@needs_model
def test_odd_sizes_and_nodata():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((250, 250)).cumsum(0).cumsum(1).astype(np.float32)
    ref = base / base.std() * 3 - 12
    tmpl = ref[20:200, 30:210].copy()
    tmpl[:10, :10] = np.nan
    m = DcdmMatcher(provider="cpu")
    match = m.match(tmpl, ref)
    assert match.similarity.shape == (71, 71)
    assert match.translated.shape == tmpl.shape
    assert m.match(np.full((192, 192), np.nan, np.float32), ref[:256, :256] if ref.shape[0] >= 256 else
                   np.pad(ref, 3)).status.startswith("nodata")


@needs_model
@pytest.mark.shared_data
def test_finds_known_offsets_on_real_pairs(shared_data):
    from sarcoreg.core.samples import iter_samples

    m = DcdmMatcher(provider="cpu")
    errors = []
    for s in iter_samples(str(shared_data), 256, 192, 4, seed=5, split="val"):
        match = m.match(s.template, s.reference)
        errors.append(np.hypot(match.row - s.true_row, match.col - s.true_col))
    assert sum(e <= 3 for e in errors) >= 3, errors



@needs_model
@pytest.mark.shared_data
def test_batched_matches_equal_single_ones(shared_data):
    """A batch of windows in one model call gives each window what it gets alone, and
    windows the model cannot take (nodata, other size) still come back in their place."""
    from sarcoreg.core.samples import iter_samples

    samples = list(iter_samples(str(shared_data), 256, 192, 3, seed=2, split="val"))
    pairs = [(s.template, s.reference) for s in samples]
    nodata = (np.full((192, 192), np.nan, np.float32), samples[0].reference)
    small = (samples[1].template[:96, :96], samples[1].reference[:160, :160])
    single = DcdmMatcher(provider="cpu")
    batched = DcdmMatcher(provider="cpu", batch_size=3)
    assert single.batch_size == 1 and batched.batch_size == 3
    got = batched.match_many(pairs[:2] + [nodata, small] + pairs[2:])
    want = [single.match(t, r) for t, r in pairs[:2] + [small] + pairs[2:]]
    assert got[2].status.startswith("nodata")
    for g, w in zip(got[:2] + got[3:], want):
        assert g.status == w.status == "ok"
        assert abs(g.row - w.row) < 0.01 and abs(g.col - w.col) < 0.01
        np.testing.assert_allclose(g.translated, w.translated, atol=1e-4)
    with pytest.raises(InputError):
        DcdmMatcher(provider="cpu", batch_size=0)

@needs_model
def test_match_of_a_translation_is_the_match(shared_data):
    """``match_translation`` (translate once, match several ways) finishes a pair as ``match``
    does, with this matcher's fusion and snap."""
    from sarcoreg.core.samples import iter_samples

    s = next(iter(iter_samples(str(shared_data), 256, 192, 1, seed=3, split="val")))
    m = DcdmMatcher(provider="cpu")
    want = m.match(s.template, s.reference)
    got = m.match_translation(s.template, s.reference, m.translate(s.template, s.reference))
    assert got.status == want.status == "ok"
    assert (got.row, got.col, got.confidence) == pytest.approx((want.row, want.col, want.confidence), abs=1e-6)
    np.testing.assert_array_equal(got.similarity, want.similarity)


@needs_model
def test_classical_part_on_the_helper_thread_gives_the_same_match(monkeypatch):
    """The fused classical part computed on the helper thread during the model call, or by
    the caller after it: the same surface and peak to the bit."""
    import threading

    from sarcoreg.core.matchers import common

    rng = np.random.default_rng(3)
    ref = rng.standard_normal((256, 256)).cumsum(0).cumsum(1).astype(np.float32)
    template = ref[30:222, 12:204] * -1.0
    m = DcdmMatcher(provider="cpu")
    assert m.fuse_weight(192) > 0
    where = []
    plain = m._classical_match

    def spy(t, r):
        where.append(threading.current_thread().name.split("_")[0])
        return plain(t, r)

    monkeypatch.setattr(m, "_classical_match", spy)
    monkeypatch.setattr(common, "HELPER_THREADS", False)
    alone = m.match(template, ref)
    monkeypatch.setattr(common, "HELPER_THREADS", True)
    helped = m.match(template, ref)
    assert where == [threading.current_thread().name.split("_")[0], "sarcoreg-classical"]
    assert alone.ok and (helped.row, helped.col, helped.confidence) == (alone.row, alone.col, alone.confidence)
    np.testing.assert_array_equal(helped.similarity, alone.similarity)


BLOCK_TORCH = r"""
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this test")
sys.meta_path.insert(0, Block())
import numpy as np
from sarcoreg.core.matchers import get_matcher, matcher_names
assert "dcdm" in matcher_names(), matcher_names()
m = get_matcher("dcdm", provider="cpu")
rng = np.random.default_rng(1)
ref = rng.standard_normal((256, 256)).cumsum(0).cumsum(1).astype(np.float32)
match = m.match(ref[10:202, 20:212] * -1.0, ref)
assert match.similarity.shape == (65, 65) and match.translated.shape == (192, 192)
assert "torch" not in sys.modules
print("ok", m.provider, m.model_version)
"""


@needs_model
def test_runs_with_torch_blocked():
    out = subprocess.run([sys.executable, "-c", BLOCK_TORCH], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("ok cpu")


@needs_model
def test_engine_batches_windows_without_changing_the_tie_points(tmp_path):
    """coregister with windows grouped per model call (the GPU path) gives the tie points of
    one window per call, in the same order, and report.json names the batch size."""
    from sarcoreg.core.config import CoregConfig
    from sarcoreg.core.coregister import coregister
    from sarcoreg.core.demo import DEMO_DIR

    opt, sar = str(DEMO_DIR / "demo_opt.tif"), str(DEMO_DIR / "demo_sar.tif")
    runs = {}
    for b in (1, 3):
        cfg = CoregConfig(matcher="dcdm", provider="cpu", window_px=256, template_px=192, spacing_px=160,
                          batch_size=b, write_similarity=False, coarse_search=False)
        runs[b] = coregister(opt, sar, tmp_path / f"b{b}", cfg)
        assert runs[b].report["runtime"]["batch_size"] == b
        # the fusion chosen on the dev split travels with the model and is reported
        rep = runs[b].report
        stored = json.loads(DcdmMatcher(provider="cpu").contract.raw["matching"])
        assert rep["matcher"]["classical"] == stored["classical"]["matcher"] == "mind"
        assert rep["matcher"]["guard_px"] == float(stored.get("guard_px", 0.0))
        assert rep["counts"]["unsure"] == len(rep["unsure_windows"])
        assert all(w["note"].startswith("guard:") for w in rep["unsure_windows"])
    one, three = runs[1].tiepoints, runs[3].tiepoints
    assert len(one) == len(three) >= 4
    for a, b in zip(one, three):
        assert (a.win_row, a.win_col) == (b.win_row, b.win_col)
        assert abs(a.dx_px - b.dx_px) < 0.01 and abs(a.dy_px - b.dy_px) < 0.01


@needs_model
def test_fusion_weight_per_template_size():
    m = DcdmMatcher(provider="cpu", fuse_cfog={"192": 0.7, "384": 0.5})
    assert m.fuse_weight(192) == pytest.approx(0.7) and m.fuse_weight(128) == pytest.approx(0.7)
    assert m.fuse_weight(288) == pytest.approx(0.6) and m.fuse_weight(500) == pytest.approx(0.5)
    assert DcdmMatcher(provider="cpu", fuse_cfog=0.25).fuse_weight(192) == pytest.approx(0.25)
    with pytest.raises(InputError):
        DcdmMatcher(provider="cpu", fuse_cfog={"192": 1.5})
    with pytest.raises(ModelError):
        DcdmMatcher(provider="cpu", fuse_cfog={"a": 0.5})


@needs_model
@pytest.mark.shared_data
def test_guard_keeps_the_classical_answer_where_fusion_moves_away(shared_data):
    """With the guard on, every answer is the fused peak within ``guard_px`` of the classical
    peak, or the classical answer itself with half its confidence and a note."""
    from sarcoreg.core.sources import source_samples

    groups = source_samples(str(shared_data), 256, 192, 8, seed=5, role="dev", sources=("ombria",),
                            check_truth=False)
    cfog = get_matcher("cfog")
    free = DcdmMatcher(provider="cpu", fuse_cfog=0.0, guard_px=0.0, snap_px=0.0, classical="cfog", classical_options={})
    guarded = DcdmMatcher(provider="cpu", fuse_cfog=0.0, guard_px=1.0, snap_px=0.0, classical="cfog", classical_options={},
                          agreement_px=0.0)
    replaced = 0
    for s in groups[0].samples:
        c, f, g = (m.match(s.template, s.reference) for m in (cfog, free, guarded))
        if np.hypot(f.row - c.row, f.col - c.col) > 1.0:
            replaced += 1
            assert (g.row, g.col) == (c.row, c.col) and g.confidence == pytest.approx(0.5 * c.confidence)
            assert g.note.startswith("guard:") and g.translated is not None
        else:
            assert (g.row, g.col) == (f.row, f.col) and g.note == ""
    assert replaced >= 1, "the translation alone never left the CFOG peak by 1 px: the test proves nothing"


@needs_model
@pytest.mark.shared_data
def test_snap_takes_the_classical_position_where_both_find_the_same_peak(shared_data):
    """With the snap on, an answer within ``snap_px`` of the classical peak is moved onto it
    (the fused confidence kept); farther ones are the fused peak itself. Per template size."""
    from sarcoreg.core.sources import source_samples

    groups = source_samples(str(shared_data), 256, 192, 8, seed=5, role="dev", sources=("ombria",),
                            check_truth=False)
    mind = get_matcher("mind")
    kw = dict(provider="cpu", fuse_cfog=0.5, guard_px=0.0, classical="mind", classical_options={})
    free = DcdmMatcher(snap_px=0.0, **kw)
    snapped = DcdmMatcher(snap_px={"192": 2.0, "384": 0.0}, **kw)
    assert (snapped.snap(192), snapped.snap(384), snapped.snap(500)) == (2.0, 0.0, 0.0)
    moved = 0
    for s in groups[0].samples:
        c, f, g = (m.match(s.template, s.reference) for m in (mind, free, snapped))
        assert g.confidence == pytest.approx(f.confidence)
        if np.hypot(f.row - c.row, f.col - c.col) <= 2.0:
            assert (g.row, g.col) == (c.row, c.col)
            moved += (f.row, f.col) != (c.row, c.col)
        else:
            assert (g.row, g.col) == (f.row, f.col)
    assert moved >= 1, "the fused peak always sat on the MIND peak: the test proves nothing"
    assert snapped.facts()["snap_px"] == {"192": 2.0, "384": 0.0}
    with pytest.raises(InputError):
        DcdmMatcher(provider="cpu", snap_px=-1.0)


@needs_model
@pytest.mark.shared_data
def test_agreement_lowers_the_confidence_where_translation_and_classical_part_disagree(shared_data):
    """With ``agreement_px`` on, the answer is unchanged and the confidence is multiplied by
    ``(1 + 1 / (1 + (d / agreement_px)²)) / 2``, d the distance between the translation
    alone's peak and the classical part's: kept where they agree, at most halved."""
    from sarcoreg.core.sources import source_samples

    samples = [s for g in source_samples(str(shared_data), 256, 192, 6, seed=5, role="dev",
                                         sources=("ombria", "s1s2_la"), check_truth=False) for s in g.samples]
    mind = get_matcher("mind")
    kw = dict(provider="cpu", fuse_cfog=0.5, guard_px=0.0, snap_px=1.0, classical="mind", classical_options={})
    alone = DcdmMatcher(provider="cpu", fuse_cfog=0.0, guard_px=0.0, snap_px=0.0, agreement_px=0.0)
    plain, agreeing = DcdmMatcher(agreement_px=0.0, **kw), DcdmMatcher(agreement_px=1.0, **kw)
    lowered = unsure = 0
    # the samples as they are, and templates put in another pair's window (nothing to find:
    # the two views land where they like, often far apart)
    cases = [(s.template, s.reference) for s in samples]
    cases += [(x.template, y.reference) for x, y in zip(samples[:4], samples[-4:])]
    for template, reference in cases:
        c, t, p, a = (m.match(template, reference) for m in (mind, alone, plain, agreeing))
        assert (a.row, a.col) == (p.row, p.col)
        d = np.hypot(t.row - c.row, t.col - c.col)
        assert a.confidence == pytest.approx(p.confidence * 0.5 * (1 + 1 / (1 + d ** 2)), rel=1e-5)
        assert 0.5 * p.confidence - 1e-9 <= a.confidence <= p.confidence + 1e-9
        lowered += a.confidence < 0.9 * p.confidence
        assert p.note == ""
        if d > 5.0:
            assert a.note.startswith("unsure: translation alone and mind peaks") and f"{d:.1f} px apart" in a.note
            unsure += 1
        else:
            assert a.note == ""
    assert lowered >= 1, "the translation alone always agreed with MIND: the test proves nothing"
    assert unsure >= 1, "no window had its two views more than 5 px apart: the flag is not tested"
    assert agreeing.facts()["agreement_px"] == 1.0
    with pytest.raises(InputError):
        DcdmMatcher(provider="cpu", agreement_px=-1.0)


@needs_model
@pytest.mark.shared_data
def test_translation_shift_moves_the_translation_before_it_is_matched(shared_data):
    """A whole-pixel ``translation_shift_px`` moves the translation-alone peak by exactly that
    much the other way; the stored value travels in the metadata and bad values are refused."""
    from sarcoreg.core.sources import source_samples

    s = source_samples(str(shared_data), 256, 192, 2, seed=5, role="dev", sources=("ombria",),
                       check_truth=False)[0].samples[0]
    plain = DcdmMatcher(provider="cpu", fuse_cfog=0.0, guard_px=0.0, snap_px=0.0, translation_shift_px=(0.0, 0.0))
    moved = DcdmMatcher(provider="cpu", fuse_cfog=0.0, guard_px=0.0, snap_px=0.0, translation_shift_px=(2.0, -1.0))
    a, b = plain.match(s.template, s.reference), moved.match(s.template, s.reference)
    assert a.ok and b.ok
    assert b.row == pytest.approx(a.row - 2.0, abs=0.05) and b.col == pytest.approx(a.col + 1.0, abs=0.05)
    np.testing.assert_allclose(b.translated[20:150, 20:150], a.translated[18:148, 21:151], atol=1e-4)
    assert len(DcdmMatcher(provider="cpu").translation_shift_px) == 2
    with pytest.raises(InputError):
        DcdmMatcher(provider="cpu", translation_shift_px=(0.5,))
