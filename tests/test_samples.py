"""Protocol samples cut from the real s1s2_la pairs: splits, positions and the truth."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from sarcoreg.core.errors import InputError
from sarcoreg.core.samples import cut_sample, iter_samples, list_pairs, load_pair, sample_specs, split_of

pytestmark = pytest.mark.shared_data


def test_split_is_by_whole_pairs_and_deterministic(shared_data):
    every = list_pairs(str(shared_data), "all")
    train = {p.pair_id for p in list_pairs(str(shared_data), "train")}
    val = {p.pair_id for p in list_pairs(str(shared_data), "val")}
    assert train and val and not (train & val)
    assert train | val == {p.pair_id for p in every}
    assert 0.1 < len(val) / len(every) < 0.4
    assert all(split_of(p) == "val" for p in val)
    assert split_of("T11SLT/003") == split_of("T11SLT/003")


def test_pairs_without_measured_residual_are_left_out(shared_data):
    ids = {p.pair_id for p in list_pairs(str(shared_data), "all")}
    assert "T11SLT/015" not in ids          # its residual_shift_px is null upstream
    assert "T11SLT/003" in ids


def test_missing_data_is_a_clear_input_error(tmp_path):
    with pytest.raises(InputError, match="--data"):
        list_pairs(str(tmp_path / "nowhere"))
    with pytest.raises(InputError, match="split"):
        list_pairs(str(tmp_path), "test")


def test_samples_have_the_protocol_shapes_and_offsets(shared_data):
    samples = list(iter_samples(str(shared_data), 256, 192, 12, seed=3, split="train"))
    assert len(samples) == 12 and len({s.sample_id for s in samples}) == 12
    for s in samples:
        assert s.template.shape == (192, 192) and s.reference.shape == (256, 256)
        assert s.template.dtype == np.float32 and s.reference.dtype == np.float32
        assert -0.5 <= s.true_row <= 64.5 and -0.5 <= s.true_col <= 64.5
        assert np.isfinite(s.template).all() and np.isfinite(s.reference).all()
        assert 20 < float(np.median(s.reference)) < 50        # dB of 8-bit amplitude
    again = list(iter_samples(str(shared_data), 256, 192, 12, seed=3, split="train"))
    assert all(np.array_equal(a.template, b.template) and a.true_row == b.true_row for a, b in zip(samples, again))
    other = list(iter_samples(str(shared_data), 256, 192, 12, seed=4, split="train"))
    assert any(a.true_row != b.true_row for a, b in zip(samples, other))


def test_residual_correction_has_the_right_sign(shared_data):
    """With the residual applied as documented the default matcher lands on the truth;
    with its sign flipped it does not (pairs with a residual of at least 2 px)."""
    from sarcoreg.core.matchers import DEFAULT_CLASSICAL, get_matcher

    matcher = get_matcher(DEFAULT_CLASSICAL)
    pairs = [p for p in list_pairs(str(shared_data), "val")
             if max(abs(p.residual_dy_px), abs(p.residual_dx_px)) >= 2][:3]
    assert len(pairs) == 3
    right, flipped = [], []
    for pair in pairs:
        optical, sar = load_pair(pair)
        wrong = dataclasses.replace(pair, residual_dy_px=-pair.residual_dy_px, residual_dx_px=-pair.residual_dx_px)
        for p, errors in ((pair, right), (wrong, flipped)):
            spec = sample_specs([p], 512, 384, 1, seed=1, shapes=[optical.shape])[0]
            s = cut_sample(spec, optical, sar, 512, 384)
            m = matcher.match(s.template, s.reference)
            errors.append(np.hypot(m.row - s.true_row, m.col - s.true_col))
    assert max(right) < 3.0, right
    assert min(flipped) > 3.0, flipped


@pytest.mark.shared_data
def test_pairs_stored_twice_are_listed_once(shared_data):
    """Every dropped copy has the pixels of the copy kept, and no two listed pairs share
    their SAR pixels (a twin on both sides of the split would leak training into val)."""
    import hashlib

    from osgeo import gdal

    from sarcoreg.core.samples import DUPLICATE_PAIRS

    base = shared_data / "s1s2_la"
    listed = list_pairs(str(shared_data), "all")
    ids = {p.pair_id for p in listed}
    assert not ids & set(DUPLICATE_PAIRS)
    for dropped, kept in DUPLICATE_PAIRS.items():
        for part in ("_opt.tif", "_sar.tif"):
            a, b = (base / f"{name}{part}" for name in (dropped, kept))
            assert gdal.Open(str(a)).ReadAsArray().tobytes() == gdal.Open(str(b)).ReadAsArray().tobytes(), (a, b)
    seen = {}
    for p in listed:
        digest = hashlib.sha256(load_pair(p)[1].tobytes()).hexdigest()
        assert digest not in seen, f"{p.pair_id} has the SAR pixels of {seen.get(digest)}"
        seen[digest] = p.pair_id
