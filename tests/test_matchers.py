"""Matchers and their registry, on real optical–SAR crops and on generated images."""
from __future__ import annotations


import numpy as np
import pytest

from sarcoreg.core.errors import InputError
from sarcoreg.core.matchers import DEFAULT_CLASSICAL, Match, Matcher, get_matcher, matcher_names, register
from sarcoreg.core.matchers import _REGISTRY
from sarcoreg.core.matchers.descriptor import CfogConfig, cfog_descriptor
from sarcoreg.core.matchers.kernels import gaussian_blur, zncc_surface
from sarcoreg.core.radiometry import normalise

CLASSICAL = ("zncc", "cfog", "mind")


@pytest.fixture(scope="module")
def real_samples(shared_data):
    """Eight protocol samples at the plugin's size (512 / 384) from the validation pairs."""
    from sarcoreg.core.samples import iter_samples

    return list(iter_samples(str(shared_data), 512, 384, 8, seed=0, split="val"))


def texture(shape, seed=0):
    rng = np.random.default_rng(seed)
    return (gaussian_blur(rng.normal(size=shape), 2.0) * 20 + 100).astype(np.float32)


# --------------------------------------------------------------------------- registry

def test_registry_lists_builtins_and_default():
    names = matcher_names()
    assert set(CLASSICAL) <= set(names)
    assert DEFAULT_CLASSICAL in names and DEFAULT_CLASSICAL != "zncc"
    for name in CLASSICAL:
        m = get_matcher(name)
        assert isinstance(m, Matcher) and m.name == name


def test_auto_resolves_to_the_first_available_matcher_of_the_evidence():
    from sarcoreg.core.matchers import AUTO_PREFERENCE, resolve_name

    expected = next(n for n in AUTO_PREFERENCE if n in matcher_names())
    assert resolve_name("auto") == expected and resolve_name("zncc") == "zncc"
    assert DEFAULT_CLASSICAL in AUTO_PREFERENCE     # auto always has a classical fallback
    if expected != "dcdm":
        assert get_matcher("auto").name == expected


def test_auto_skips_a_preferred_matcher_that_is_not_available(monkeypatch):
    import sarcoreg.core.matchers as registry

    monkeypatch.setattr(registry, "AUTO_PREFERENCE", ("no-such-model", "mind", "cfog"))
    assert registry.resolve_name("auto") == "mind"


def test_unknown_name_or_option_is_an_input_error_naming_the_choices():
    with pytest.raises(InputError, match="use one of auto, .*cfog.*zncc"):
        get_matcher("sift")
    with pytest.raises(InputError, match="valid options are .*sigma_px"):
        get_matcher("cfog", sigmaa=2)
    with pytest.raises(InputError, match="bad option value"):
        get_matcher("mind", neighbours=6)


def test_register_callable_and_lazy_factory():
    try:
        register("test-zncc", lambda **kw: get_matcher("zncc", **kw))
        assert "test-zncc" in matcher_names()
        assert get_matcher("test-zncc").name == "zncc"
        with pytest.raises(ValueError):
            register("test-zncc", lambda **kw: None)
        register("test-lazy", "..matchers.zncc:ZnccMatcher")   # resolved against sarcoreg.core.matchers
        assert get_matcher("test-lazy").name == "zncc"
        with pytest.raises(ValueError):
            register("bad name!", "x:y")
    finally:
        _REGISTRY.pop("test-zncc", None)
        _REGISTRY.pop("test-lazy", None)
    assert "test-zncc" not in matcher_names()


# --------------------------------------------------------------------------- contract

@pytest.mark.parametrize("name", CLASSICAL)
def test_match_contract_on_generated_shift(name):
    image = texture((200, 220), seed=1)
    reference = image[20:148, 30:158]
    template = image[45:141, 41:137]      # top-left at (25, 11) in the reference
    m = get_matcher(name).match(template, reference)
    assert isinstance(m, Match) and m.ok, m.status
    assert m.similarity.shape == (33, 33) and m.similarity.dtype == np.float32
    assert abs(m.row - 25) < 0.2 and abs(m.col - 11) < 0.2
    assert 0.5 < m.confidence <= 1.0
    assert m.score == pytest.approx(float(np.nanmax(m.similarity)), abs=0.02)


@pytest.mark.parametrize("name", CLASSICAL)
def test_failed_inputs_are_data_not_exceptions(name):
    matcher = get_matcher(name)
    ref = texture((128, 128), seed=2)
    flat = matcher.match(np.full((64, 64), 7.0, np.float32), ref)
    assert not flat.ok and flat.status.startswith("flat") and np.isnan(flat.row)
    empty = np.full((64, 64), np.nan, np.float32)
    gone = matcher.match(empty, ref)
    assert not gone.ok and gone.status.startswith("nodata")


@pytest.mark.parametrize("name", ("cfog", "mind"))
def test_descriptors_on_the_helper_thread_give_the_same_match(name, monkeypatch):
    """The template's descriptor computed on the helper thread, on the caller's when the
    helper is taken, or both one after the other: the same surface to the bit."""
    import threading

    from sarcoreg.core.matchers import common, descriptor

    image = texture((200, 220), seed=4)
    reference, template = image[20:148, 30:158], image[45:141, 41:137]
    seen = set()
    matcher = get_matcher(name)
    plain = matcher._describe

    def spy(x):
        seen.add(threading.current_thread().name.split("_")[0])
        return plain(x)

    monkeypatch.setattr(matcher, "_describe", spy)
    monkeypatch.setattr(common, "HELPER_THREADS", False)
    serial = matcher.match(template, reference)
    assert seen == {threading.current_thread().name.split("_")[0]}
    monkeypatch.setattr(common, "HELPER_THREADS", True)
    seen.clear()
    helper = matcher.match(template, reference)
    assert "sarcoreg-descriptor" in seen and len(seen) == 2
    with descriptor._DESCRIPTOR_HELPER._free:   # the helper is taken: the caller computes both
        seen.clear()
        inline = matcher.match(template, reference)
    assert "sarcoreg-descriptor" not in seen
    for m in (helper, inline):
        np.testing.assert_array_equal(m.similarity, serial.similarity)
        assert (m.row, m.col, m.confidence) == (serial.row, serial.col, serial.confidence)


@pytest.mark.parametrize("name", ("cfog", "mind"))
def test_descriptor_matchers_tolerate_nodata(name):
    image = texture((220, 220), seed=3)
    reference = image[10:170, 10:170].copy()
    template = image[40:136, 60:156].copy()    # truth (30, 50)
    template[:25, :30] = np.nan                # a nodata corner in the template
    reference[140:, :] = np.nan                # a nodata strip in the reference
    m = get_matcher(name).match(template, reference)
    assert m.ok and np.hypot(m.row - 30, m.col - 50) < 0.5, (m.row, m.col)


def test_cfog_square_equals_many_explicit_orientation_channels():
    """The 3-channel 'square' CFOG gives the ZNCC of n >= 3 explicit (g·u)²/|g| channels."""
    cfg = CfogConfig()
    image = texture((90, 90), seed=4)
    n = 7

    def explicit(img):
        x = gaussian_blur(normalise(img), cfg.presmooth_px).astype(np.float64)
        g_row, g_col = np.gradient(x)
        mag = np.sqrt(g_row ** 2 + g_col ** 2) + 1e-12
        th = np.arange(n) * np.pi / n
        ch = (np.cos(th)[:, None, None] * g_col + np.sin(th)[:, None, None] * g_row) ** 2 / mag
        ch = gaussian_blur(ch, cfg.sigma_px).astype(np.float64)
        norm2 = (ch ** 2).sum(0)
        floor = cfg.norm_floor * np.sqrt(norm2).mean()
        return ch / np.sqrt(norm2 + floor ** 2)

    tpl, ref = image[20:60, 25:65], image[5:85, 5:85]
    want = zncc_surface(explicit(tpl), explicit(ref))
    got = zncc_surface(cfog_descriptor(tpl, cfg), cfog_descriptor(ref, cfg))
    np.testing.assert_allclose(got, want, atol=2e-4)


# --------------------------------------------------------------------------- real optical–SAR

def _hits(matcher, samples, tol_px=3.0):
    hits = 0
    for s in samples:
        m = matcher.match(s.template, s.reference)
        hits += bool(m.ok and np.hypot(m.row - s.true_row, m.col - s.true_col) <= tol_px)
    return hits


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ("cfog", "mind"))
def test_structural_matchers_find_sar_offsets(real_samples, name):
    hits = _hits(get_matcher(name), real_samples)
    assert hits >= 7, f"{name}: {hits} of {len(real_samples)} within 3 px"


@pytest.mark.shared_data
def test_raw_zncc_is_worse_than_default_classical_across_modalities(real_samples):
    assert _hits(get_matcher("zncc"), real_samples) < _hits(get_matcher(DEFAULT_CLASSICAL), real_samples)


@pytest.mark.shared_data
def test_confidence_separates_true_template_from_foreign_one(real_samples):
    matcher = get_matcher(DEFAULT_CLASSICAL)
    true_conf, foreign_conf = [], []
    for k, s in enumerate(real_samples):
        other = real_samples[(k + 4) % len(real_samples)]
        m = matcher.match(s.template, s.reference)
        if np.hypot(m.row - s.true_row, m.col - s.true_col) <= 5:
            true_conf.append(m.confidence)
        foreign_conf.append(matcher.match(other.template, s.reference).confidence)
    assert np.median(true_conf) > 2 * np.median(foreign_conf), (true_conf, foreign_conf)
