"""Faster DCDM variants run only behind a passed parity gate made for the float32 file beside them."""
import json
import shutil

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
onnx = pytest.importorskip("onnx", reason="onnx is needed to write variant metadata")

from sarcoreg.core.dcdm.runtime import (UNROLLED_FILE, available, choose_variant, default_model_dir,  # noqa: E402
                                        file_sha256, variant_path)
from sarcoreg.core.errors import InputError, ModelError  # noqa: E402

needs_model = pytest.mark.skipif(not available(), reason="no DCDM ONNX model installed")


def test_verdict():
    from sarcoreg.models.dcdm.optimize import verdict

    e = [0.2] * 50 + [2.0] * 40 + [9.0] * 10
    assert verdict([0.0] * 100, e, e)
    assert verdict([0.0] * 99 + [0.5], e, e)                       # 99 % within 0.1 px
    assert not verdict([0.0] * 98 + [0.5, 0.5], e, e)              # 98 %
    assert not verdict([0.0] * 100, e, [2.0] + e[1:])              # CMR(1) lower
    assert not verdict([0.0] * 100, e, e[:89] + [9.0] + e[90:])    # CMR(5) lower
    assert verdict([0.0] * 100, e[:89] + [9.0] + e[90:], e)        # better is fine
    assert not verdict([float("nan")] * 100, e, e)                 # one of the two failed everywhere
    assert not verdict([], [], [])


def _variant(model_dir, variant, gate):
    src = model_dir / UNROLLED_FILE
    m = onnx.load(str(src))
    e = m.metadata_props.add()
    e.key, e.value = "parity_gate", json.dumps(gate)
    onnx.save(m, str(variant_path(src, variant)))


@needs_model
def test_runtime_opens_a_variant_only_when_its_gate_allows(tmp_path):
    shutil.copyfile(default_model_dir() / UNROLLED_FILE, tmp_path / UNROLLED_FILE)
    paths = [tmp_path / UNROLLED_FILE]
    sha = file_sha256(paths[0])
    assert choose_variant(paths, "unrolled", "auto") == (paths, "fp32", "")
    _variant(tmp_path, "int8", {"passed": True, "ship": False, "reference_sha256": sha})
    used, precision, why = choose_variant(paths, "unrolled", "auto")
    assert precision == "fp32" and "no faster" in why
    assert choose_variant(paths, "unrolled", "int8")[1] == "int8"          # asked for: it passed
    _variant(tmp_path, "int8", {"passed": True, "ship": True, "reference_sha256": sha})
    used, precision, _ = choose_variant(paths, "unrolled", "auto")
    assert precision == "int8" and used == [variant_path(paths[0], "int8")]
    _variant(tmp_path, "int8", {"passed": True, "ship": True, "reference_sha256": "0" * 64})
    used, precision, why = choose_variant(paths, "unrolled", "auto")
    assert precision == "fp32" and "stale" in why                           # made for another model
    _variant(tmp_path, "fp16", {"passed": False, "ship": False, "reference_sha256": sha})
    with pytest.raises(ModelError, match="fp16"):
        choose_variant(paths, "unrolled", "fp16")
    assert choose_variant(paths, "unrolled", "fp32") == (paths, "fp32", "")
    with pytest.raises(InputError):
        choose_variant(paths, "unrolled", "int4")


@needs_model
def test_the_matcher_reports_its_precision(tmp_path):
    from sarcoreg.core.dcdm.matcher import DcdmMatcher

    shutil.copyfile(default_model_dir() / UNROLLED_FILE, tmp_path / UNROLLED_FILE)
    _variant(tmp_path, "fp16", {"passed": True, "ship": True, "reference_sha256": file_sha256(tmp_path / UNROLLED_FILE)})
    m = DcdmMatcher(provider="cpu", model_dir=str(tmp_path))
    assert m.precision == "fp16"      # the same graph under a variant's name: it opens and runs
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(96, 96)).astype(np.float32)
    assert isinstance(m.match(ref[16:80, 16:80].copy(), ref).status, str)
    assert DcdmMatcher(provider="cpu", model_dir=str(tmp_path), precision="fp32").precision == "fp32"


@needs_model
def test_set_matching_carries_the_settings_to_the_gated_variants(tmp_path):
    """Changing the fusion settings rewrites the float32 file's metadata, so its checksum: the
    variants beside it get the same settings and stay gated (their graphs did not change);
    a variant gated against another model stays stale."""
    from sarcoreg.core.dcdm.matcher import DcdmMatcher
    from sarcoreg.models.dcdm.optimize import set_matching

    shutil.copyfile(default_model_dir() / UNROLLED_FILE, tmp_path / UNROLLED_FILE)
    sha = file_sha256(tmp_path / UNROLLED_FILE)
    _variant(tmp_path, "light", {"passed": True, "ship": True, "reference_sha256": sha})
    _variant(tmp_path, "fp16", {"passed": True, "ship": True, "reference_sha256": "0" * 64})
    (tmp_path / "parity_gate.json").write_text(json.dumps([{"variant": "light", "reference_sha256": sha}]))
    before = DcdmMatcher(provider="cpu", model_dir=str(tmp_path))
    assert before.precision == "light" and before.agreement_px != 1.5
    matching = {"fuse_classical": {"192": 0.4}, "classical": {"matcher": "mind", "options": {}},
                "agreement_px": 1.5}
    previous = set_matching(str(tmp_path / UNROLLED_FILE), matching)
    assert "fuse_classical" in previous or "fuse_cfog" in previous
    new_sha = file_sha256(tmp_path / UNROLLED_FILE)
    assert new_sha != sha
    after = DcdmMatcher(provider="cpu", model_dir=str(tmp_path))
    assert after.precision == "light" and after.agreement_px == 1.5 and after.fuse_weight(192) == pytest.approx(0.4)
    assert DcdmMatcher(provider="cpu", model_dir=str(tmp_path), precision="fp32").agreement_px == 1.5
    assert json.loads((tmp_path / "parity_gate.json").read_text())[0]["reference_sha256"] == new_sha
    with pytest.raises(ModelError, match="stale"):
        DcdmMatcher(provider="cpu", model_dir=str(tmp_path), precision="fp16")


def test_gate_commands_parse():
    from sarcoreg.cli import build_parser

    p = build_parser()
    a = p.parse_args(["optimize-onnx", "--variants", "int8", "--gate-samples", "5", "--model-dir", "m"])
    assert a.variants == ["int8"] and a.gate_samples == 5 and a.model_dir == "m" and callable(a.func)
    assert p.parse_args(["optimize-onnx"]).variants == ["light", "int8", "fp16"]
    assert p.parse_args(["optimize-onnx", "--variants", "light", "--distill-minutes", "2"]).distill_minutes == 2
    assert p.parse_args(["export-onnx", "ck.pt"]).variants == []
    assert p.parse_args(["export-onnx", "ck.pt", "--variants", "fp16"]).variants == ["fp16"]


def test_optimize_refuses_a_folder_without_a_model(tmp_path):
    from sarcoreg.models.dcdm.optimize import build_variants

    with pytest.raises(InputError, match="no unrolled float32 graph"):
        build_variants(str(tmp_path), str(tmp_path))


@needs_model
def test_gate_only_gates_a_variant_again_on_the_multi_region_validation(tmp_path, shared_data):
    """``optimize-onnx --gate-only``: the variant file already there is matched against the
    float32 graph on samples of every validation source, and its verdict is rewritten."""
    from sarcoreg.core.dcdm.runtime import read_gate
    from sarcoreg.models.dcdm.optimize import build_variants

    shutil.copyfile(default_model_dir() / UNROLLED_FILE, tmp_path / UNROLLED_FILE)
    _variant(tmp_path, "fp16", {"passed": False, "ship": False, "reference_sha256": "stale"})
    (result,) = build_variants(str(tmp_path), str(shared_data), ["fp16", "int8"], n_samples=2,
                               sizes=((256, 192),), gate_only=True, log=lambda _: None)
    # the same graph under a variant's name: the same peaks everywhere
    assert result.variant == "fp16" and result.passed and result.share_within_tol == 1.0
    sources = dict(result.sources)
    assert len(sources) >= 2 and "s1s2_la" in sources and result.samples == sum(sources.values())
    gate = read_gate(variant_path(tmp_path / UNROLLED_FILE, "fp16"))
    assert gate["passed"] and gate["reference_sha256"] == file_sha256(tmp_path / UNROLLED_FILE)
    assert not variant_path(tmp_path / UNROLLED_FILE, "int8").exists()     # none to gate, none made
    assert [r["variant"] for r in json.loads((tmp_path / "parity_gate.json").read_text())] == ["fp16"]
