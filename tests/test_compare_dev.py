"""scripts/compare_dev.py: a dev difference is called only where the draw of samples cannot explain it."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "compare_dev.py"


def _module():
    spec = importlib.util.spec_from_file_location("compare_dev", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _dev_json(path, errors_by_template, truth_shift=0.0):
    """A dev.json as scripts/choose_on_dev.py writes it, with these per-sample errors."""
    per = {}
    for t, e in errors_by_template.items():
        e = np.asarray(e, float)
        block = {"error_px": [None if not np.isfinite(v) else float(v) for v in e],
                 "error_all_px": [float(v) if np.isfinite(v) else 40.0 for v in e],
                 "truth": [[float(i) + truth_shift, 1.0] for i in range(len(e))]}
        per[t] = {"fused": block, "translation": block}
    path.write_text(json.dumps({"per_sample": per}))
    return str(path)


def test_the_same_candidate_twice_is_no_difference(tmp_path):
    cd = _module()
    rng = np.random.default_rng(1)
    errors = {"192": rng.gamma(1.5, 0.8, 150), "384": rng.gamma(1.5, 0.8, 80)}
    a = _dev_json(tmp_path / "a.json", errors)
    rows = cd.compare(cd.load(a, "fused"), cd.load(a, "fused"))
    for _, diff, lo, hi, *_ in rows:
        assert diff == 0.0 and lo == 0.0 and hi == 0.0


def test_one_sample_apart_is_not_called_but_a_clear_gain_is(tmp_path):
    cd = _module()
    rng = np.random.default_rng(2)
    base = {"192": rng.gamma(1.5, 0.8, 150), "384": rng.gamma(1.5, 0.8, 80)}
    one = {t: v.copy() for t, v in base.items()}
    far = np.argmax(one["384"])
    one["384"][far] = 0.2                     # one more sample within 1 px
    a = _dev_json(tmp_path / "a.json", base)
    rows = cd.compare(cd.load(a, "fused"), cd.load(_dev_json(tmp_path / "b.json", one), "fused"))
    _, diff, lo, hi, *_ = rows[-1]
    assert diff > 0 and lo <= 0 <= hi         # a gain of one sample: the draw explains it
    assert rows[1][4:6] == (0, 1)             # at 384 px: only B has that sample within 1 px
    better = {t: v * 0.3 for t, v in base.items()}
    rows = cd.compare(cd.load(a, "fused"), cd.load(_dev_json(tmp_path / "c.json", better), "fused"))
    assert rows[-1][2] > 0                    # errors cut to 30 %: the whole interval above 0


def test_other_samples_are_refused(tmp_path):
    cd = _module()
    errors = {"192": np.ones(20)}
    a = cd.load(_dev_json(tmp_path / "a.json", errors), "fused")
    b = cd.load(_dev_json(tmp_path / "b.json", errors, truth_shift=0.5), "fused")
    with pytest.raises(SystemExit, match="other samples"):
        cd.compare(a, b)


def test_a_file_without_per_sample_errors_says_what_to_do(tmp_path):
    cd = _module()
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"fusion": {}}))
    with pytest.raises(SystemExit, match="run scripts/choose_on_dev.py again"):
        cd.load(str(old), "fused")
