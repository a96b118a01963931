"""The evaluation protocol: metrics by hand, noise, and an end-to-end run on real pairs."""
from __future__ import annotations

import numpy as np
import pytest

from sarcoreg.core.errors import CancelledError, InputError
from sarcoreg.core.evaluate import (MatcherScore, add_noise, cmr, evaluate, format_markdown, rank_auc, rmse,
                                    score, score_samples, score_samples_by_pair)
from sarcoreg.core.feedback import NullFeedback


def test_cmr_and_rmse_by_hand():
    e = np.array([0.5, 1.0, 2.0, 4.0, 6.0, np.nan])
    assert cmr(e, 1) == pytest.approx(2 / 6)
    assert cmr(e, 5) == pytest.approx(4 / 6)
    assert rmse(e, 1) == pytest.approx(np.sqrt((0.25 + 1) / 2))
    assert rmse(e, 5) == pytest.approx(np.sqrt((0.25 + 1 + 4 + 16) / 4))
    assert rmse(e) == pytest.approx(np.sqrt((0.25 + 1 + 4 + 16 + 36) / 5))
    assert np.isnan(rmse(np.array([9.0]), 5))


def test_rank_auc():
    assert rank_auc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0
    assert rank_auc([0.1, 0.2, 0.9, 0.8], [True, True, False, False]) == 0.0
    assert rank_auc([0.5, 0.5, 0.5], [True, False, True]) == 0.5
    assert np.isnan(rank_auc([0.1, 0.2], [True, True]))


def test_score_counts_failures_as_misses_and_centre_guesses():
    # window 256, template 192: the centre guess is (32, 32)
    s = score("x", 256, 192, 0.0, pred_rows=[10.0, 20.5, np.nan], pred_cols=[10.0, 20.0, np.nan],
              true_rows=[10.0, 20.0, 35.0], true_cols=[13.0, 20.0, 36.0], ok=[True, True, False],
              confidences=[0.9, 0.5, 0.0], seconds=[0.1, 0.3, 0.2])
    assert isinstance(s, MatcherScore)
    assert (s.n, s.n_failed) == (3, 1)
    assert (s.cmr1, s.cmr3, s.cmr5) == pytest.approx((1 / 3, 2 / 3, 2 / 3))
    assert s.rmse5 == pytest.approx(np.sqrt((9 + 0.25) / 2))
    assert s.rmse_all == pytest.approx(np.sqrt((9 + 0.25 + 25) / 3))   # failed: |(32,32) - (35,36)| = 5
    assert s.median_seconds == pytest.approx(0.2)


def test_noise_has_the_asked_relative_variance_and_is_reproducible():
    rng = np.random.default_rng(0)
    template = (rng.normal(size=(300, 300)) * 4 + 100).astype(np.float32)
    template[0, 0] = np.nan
    noisy = add_noise(template, 0.3, np.random.default_rng(1))
    added = (noisy - template)[np.isfinite(template)]
    assert np.var(added) / np.nanvar(template) == pytest.approx(0.3, rel=0.03)
    assert np.isnan(noisy[0, 0])
    np.testing.assert_array_equal(noisy, add_noise(template, 0.3, np.random.default_rng(1)))
    assert add_noise(template, 0.0, rng) is template


def test_format_markdown_has_one_row_per_result():
    s = score("cfog", 512, 384, 0.1, [1.0], [1.0], [1.0], [1.0], [True], [0.5], [0.2])
    text = format_markdown([s, s])
    lines = text.strip().splitlines()
    assert len(lines) == 4 and lines[0].startswith("| matcher") and "| cfog | 512 / 384 | 0.1 |" in lines[2]


def test_bad_arguments_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="shared/data|--data"):
        evaluate(str(tmp_path), ["cfog"], n_samples=2)
    with pytest.raises(InputError, match="unknown"):
        evaluate(str(tmp_path), ["nope"], n_samples=2)


@pytest.mark.shared_data
def test_evaluate_end_to_end_on_real_pairs(shared_data):
    progress = NullFeedback()
    results = evaluate(str(shared_data), ["zncc", "cfog"], settings=((256, 192),), n_samples=6, seed=0,
                       split="val", noise_var=(0.0, 0.3), feedback=progress)
    assert [(r.matcher, r.noise_var) for r in results] == [("zncc", 0.0), ("cfog", 0.0), ("zncc", 0.3), ("cfog", 0.3)]
    assert progress.progress == pytest.approx(100.0)
    for r in results:
        assert r.n == 6 and (r.window_px, r.template_px) == (256, 192)
        assert 0.0 <= r.cmr1 <= r.cmr3 <= r.cmr5 <= 1.0
        assert r.median_seconds > 0
    cfog = results[1]
    assert cfog.cmr5 >= 0.5 and cfog.rmse5 < 3.0
    assert cfog.cmr5 > results[0].cmr5          # structure beats raw pixels across modalities
    assert "| cfog | 256 / 192 | 0.3 | 6 |" in format_markdown(results)


@pytest.mark.shared_data
def test_evaluate_honours_cancel(shared_data):
    fb = NullFeedback()
    fb.cancel()
    with pytest.raises(CancelledError):
        evaluate(str(shared_data), ["zncc"], settings=((256, 192),), n_samples=2, feedback=fb)


@pytest.mark.shared_data
def test_scores_by_pair_partition_the_samples(shared_data):
    from sarcoreg.core.matchers import get_matcher
    from sarcoreg.core.samples import iter_samples

    samples = list(iter_samples(str(shared_data), 256, 192, 6, seed=1, split="val"))
    cfog = get_matcher("cfog")
    total, by_pair = score_samples_by_pair(cfog, samples, 256, 192)
    assert sum(r.n for r in by_pair.values()) == total.n == 6
    assert set(by_pair) == {s.pair_id for s in samples}
    alone = score_samples(cfog, samples, 256, 192)
    assert (total.cmr1, total.cmr5, total.rmse_all) == (alone.cmr1, alone.cmr5, alone.rmse_all)
    hits = sum(r.cmr5 * r.n for r in by_pair.values())
    assert hits == pytest.approx(total.cmr5 * total.n)
