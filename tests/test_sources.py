"""The multi-region sources: roles never overlap, OMBRIA test stays validation, every kind of
pair loads on one grid, the residual measurement finds a known move, the truth check removes
a sample whose truth is wrong, and the per-source evaluation scores each source and all."""
import importlib.util
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest

from sarcoreg.core import sources as src
from sarcoreg.core.evaluate import evaluate_sources, format_sources_markdown
from sarcoreg.core.samples import Sample

pytestmark = pytest.mark.shared_data


def _measure_module(repo_root):
    spec = importlib.util.spec_from_file_location("measure_residuals", repo_root / "scripts" / "measure_residuals.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_roles_are_disjoint_and_ombria_test_is_validation(shared_data):
    pairs = src.list_source_pairs(str(shared_data))
    roles = {}
    for sp in pairs:
        assert roles.setdefault(sp.pair_id, sp.role) == sp.role, f"{sp.pair_id} has two roles"
    by = Counter((sp.source, sp.role) for sp in pairs)
    assert by[("s1s2_la", "val")] >= 15 and by[("s1s2_la", "dev")] >= 3
    assert by[("ombria", "val")] >= 50 and by[("ombria", "dev")] >= 50 and by[("ombria", "train")] >= 300
    assert all(sp.role == "val" for sp in pairs if "/test/" in sp.pair_id)
    assert all(sp.role == "val" for sp in pairs if sp.source == "other")
    # the same rule as the model's training: no s1s2_la dev or val pair is a training pair
    from sarcoreg.core.samples import list_pairs, split_train_dev  # the rule models/dcdm/train.py uses (no torch)
    train, dev = split_train_dev(list_pairs(str(shared_data), "train"))
    assert {p.pair_id for p in dev} == {sp.pair_id for sp in pairs if sp.source == "s1s2_la" and sp.role == "dev"}


def test_every_kind_of_pair_loads_on_one_grid(shared_data):
    pairs = src.list_source_pairs(str(shared_data), roles=("val", "dev"))
    seen = set()
    for sp in pairs:
        if sp.kind in seen:
            continue
        seen.add(sp.kind)
        opt, sar = src.load(sp)
        assert opt.shape == sar.shape and opt.dtype == np.float32 and sar.dtype == np.float32, sp.pair_id
        assert np.isfinite(opt).mean() > 0.8 and np.isfinite(sar).mean() > 0.8, sp.pair_id
    assert {"la", "ombria", "mat", "tif", "tif_masked"} <= seen


def test_residual_measurement_finds_a_known_move(shared_data, repo_root):
    mod = _measure_module(repo_root)
    sp = next(p for p in src.list_source_pairs(str(shared_data), roles=("dev",), sources=("ombria",)))
    opt, sar = src.load(sp)
    base = mod.measure(opt, sar, mod.checkers())
    # move the SAR content by (+3, -2) px: optical (y, x) now sits at (y + 3, x - 2) in the SAR
    moved = np.full_like(sar, np.nan)
    moved[3:, :-2] = sar[:-3, 2:]
    found = mod.measure(opt, moved, mod.checkers())
    assert base["reliable"] == 1 and found["n_agree"] >= 5
    assert abs(found["dy"] - base["dy"] - 3) < 0.3 and abs(found["dx"] - base["dx"] + 2) < 0.3


def test_stored_residuals_cover_ombria(shared_data):
    table = src.read_residuals()
    assert sum(k.startswith("ombria/test/") for k in table) >= 50
    assert sum(k.startswith("ombria/train/") for k in table) >= 400


def test_truth_check_removes_a_wrong_truth_and_keeps_a_right_one(shared_data):
    groups = src.source_samples(str(shared_data), 256, 192, 6, seed=3, role="dev", sources=("ombria",),
                                check_truth=False)
    samples = groups[0].samples
    wrong = [Sample(s.sample_id + "w", s.pair_id, s.template, s.reference, s.true_row + 8.0, s.true_col - 6.0)
             for s in samples]
    keep_right = src.truth_check(samples)
    keep_wrong = src.truth_check(wrong)
    assert keep_right.mean() >= 0.8
    # where the right truth was kept because both matchers found it, the moved truth is removed
    assert (~keep_wrong[keep_right]).mean() >= 0.8


def test_evaluate_sources_scores_each_source_and_overall(shared_data):
    res = evaluate_sources(str(shared_data), ["cfog"], settings=((256, 192),), n_per_source=4, seed=0,
                           role="val", sources=("ombria", "other"))
    names = [r.source for r in res]
    assert names == ["ombria", "other", "overall"]
    assert res[-1].score.n == res[0].score.n + res[1].score.n
    assert res[1].n_removed == 0     # exact grids are never truth-checked
    text = format_sources_markdown(res)
    assert "| 256 / 192 | overall | cfog |" in text


def test_cli_evaluate_by_source(shared_data, repo_root):
    out = subprocess.run([sys.executable, "-m", "sarcoreg", "evaluate", "--data", str(shared_data),
                          "--matchers", "mind", "--settings", "256/192", "--samples", "3", "--sources", "ombria"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "| 256 / 192 | ombria | mind | 3 |" in out.stdout or "| 256 / 192 | ombria | mind |" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "sarcoreg", "evaluate", "--data", str(shared_data),
                          "--sources", "moon"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unknown role or source moon" in bad.stderr
