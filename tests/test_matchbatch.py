"""``match_batch`` end to end on a small manifest of real optical and SAR crops."""
from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from sarcoreg.core.errors import CancelledError, InputError, OutputExistsError
from sarcoreg.core.feedback import NullFeedback
from sarcoreg.core.matchbatch import RESULT_COLUMNS, match_batch
from sarcoreg.core.radiometry import to_db

gdal.UseExceptions()

pytestmark = pytest.mark.shared_data


def _read_all(path: str) -> np.ndarray:
    ds = gdal.Open(path)
    arr = ds.ReadAsArray()
    del ds
    return arr


def _write(path: Path, array: np.ndarray, driver: str = "GTiff") -> None:
    arr = array if array.ndim == 3 else array[None]
    gtype = gdal.GDT_Byte if arr.dtype == np.uint8 else gdal.GDT_Float32
    if driver == "PNG":
        mem = gdal.GetDriverByName("MEM").Create("", arr.shape[2], arr.shape[1], arr.shape[0], gtype)
        for b in range(arr.shape[0]):
            mem.GetRasterBand(b + 1).WriteArray(arr[b])
        gdal.GetDriverByName("PNG").CreateCopy(str(path), mem)
        del mem
        return
    ds = gdal.GetDriverByName("GTiff").Create(str(path), arr.shape[2], arr.shape[1], arr.shape[0], gtype)
    for b in range(arr.shape[0]):
        ds.GetRasterBand(b + 1).WriteArray(arr[b])
    ds.FlushCache()
    del ds


@pytest.fixture(scope="module")
def manifest(shared_data, tmp_path_factory):
    """A manifest of 3 real crops (PNG / GeoTIFF, no georeferencing) plus 2 bad rows; and the truth."""
    from sarcoreg.core.samples import list_pairs, sample_specs

    folder = tmp_path_factory.mktemp("batch")
    (folder / "sub").mkdir()
    pair = list_pairs(str(shared_data), "val")[0]
    optical = _read_all(pair.optical_path)          # (3, H, W) uint8
    sar = _read_all(pair.sar_path)                  # (H, W) uint8 amplitude
    specs = sample_specs([pair], 256, 192, 3, seed=5, shapes=[sar.shape])
    truth = {}
    rows = [("id", "template", "reference", "reference_kind", "note")]
    for k, s in enumerate(specs):
        tpl = optical[:, s.opt_row:s.opt_row + 192, s.opt_col:s.opt_col + 192]
        ref = sar[s.sar_row:s.sar_row + 256, s.sar_col:s.sar_col + 256]
        name = f"s{k}"
        truth[name] = (s.true_row, s.true_col)
        if k == 0:      # RGB PNG template, 8-bit amplitude GeoTIFF reference, relative paths
            _write(folder / "t0.png", np.ascontiguousarray(tpl), "PNG")
            _write(folder / "r0.tif", np.ascontiguousarray(ref))
            rows.append((name, "t0.png", "r0.tif", "", "png"))
        elif k == 1:    # single-band grey template in a sub-folder, absolute path
            _write(folder / "sub" / "t1.tif", tpl.mean(axis=0).astype(np.float32))
            _write(folder / "sub" / "r1.tif", np.ascontiguousarray(ref))
            rows.append((name, str(folder / "sub" / "t1.tif"), "sub/r1.tif", "", "abs"))
        else:           # reference already in dB, said so in the manifest
            _write(folder / "r2_db.tif", to_db(ref, "amplitude"))
            _write(folder / "t2.tif", np.ascontiguousarray(tpl))
            rows.append((name, "t2.tif", "r2_db.tif", "db", "db"))
            # the same in calibrated-looking dB (negative values), kind left to 'auto'
            _write(folder / "r3_db.tif", to_db(ref, "amplitude") - 60.0)
            truth["s3"] = (s.true_row, s.true_col)
            rows.append(("s3", "t2.tif", "r3_db.tif", "", "auto db"))
    rows.append(("missing", "nope.tif", "r0.tif", "", "bad"))
    rows.append(("too-big", "r0.tif", "t2.tif", "", "bad"))      # 256 template in a 192 reference
    path = folder / "manifest.csv"
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path, truth


def _read_results(path: Path):
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        return reader.fieldnames, list(reader)


def test_match_batch_recovers_the_truth(manifest, tmp_path):
    path, truth = manifest
    out = tmp_path / "out" / "results.csv"
    fb = NullFeedback()
    summary = match_batch(str(path), str(out), "cfog", feedback=fb)
    assert summary["rows"] == 6 and summary["ok"] == 4 and summary["failed"] == 2
    assert fb.progress == pytest.approx(100.0)
    header, rows = _read_results(out)
    assert tuple(header) == RESULT_COLUMNS
    assert [r["id"] for r in rows] == ["s0", "s1", "s2", "s3", "missing", "too-big"]
    for r in rows[:4]:
        true_row, true_col = truth[r["id"]]
        assert r["status"] == "ok"
        assert math.hypot(float(r["row"]) - true_row, float(r["col"]) - true_col) < 3.0, (r, truth[r["id"]])
        assert 0.0 <= float(r["confidence"]) <= 1.0 and float(r["seconds"]) > 0
    for r in rows[4:]:
        assert r["status"].startswith("input:") and math.isnan(float(r["row"])) and math.isnan(float(r["col"]))
    assert "larger than reference" in rows[5]["status"]
    assert [p.name for p in out.parent.iterdir()] == ["results.csv"]      # no temporary left behind


def test_existing_results_are_kept_unless_overwrite(manifest, tmp_path):
    path, _ = manifest
    out = tmp_path / "results.csv"
    out.write_text("precious\n")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        match_batch(str(path), str(out), "zncc")
    assert out.read_text() == "precious\n"
    match_batch(str(path), str(out), "zncc", overwrite=True)
    assert _read_results(out)[0] == list(RESULT_COLUMNS)


def test_cancel_leaves_nothing(manifest, tmp_path):
    path, _ = manifest
    fb = NullFeedback()
    fb.cancel()
    with pytest.raises(CancelledError):
        match_batch(str(path), str(tmp_path / "results.csv"), "cfog", feedback=fb)
    assert list(tmp_path.iterdir()) == []


def test_auto_kind_reads_negative_references_as_db(tmp_path):
    from sarcoreg.core.matchbatch import read_reference

    db = np.array([[-20.0, -3.0], [-12.0, np.nan]], dtype=np.float32)
    _write(tmp_path / "db.tif", db)
    np.testing.assert_allclose(read_reference(str(tmp_path / "db.tif")), db)
    amp = np.array([[10, 100], [1, 0]], dtype=np.uint8)
    _write(tmp_path / "amp.tif", amp)
    np.testing.assert_allclose(read_reference(str(tmp_path / "amp.tif"))[0], [20.0, 40.0])


def test_bad_manifest_matcher_or_kind(tmp_path, manifest):
    path, _ = manifest
    with pytest.raises(InputError, match="no such manifest"):
        match_batch(str(tmp_path / "none.csv"), str(tmp_path / "r.csv"), "cfog")
    bad = tmp_path / "bad.csv"
    bad.write_text("name,template\nx,y.tif\n")
    with pytest.raises(InputError, match="lacks column.*id.*reference"):
        match_batch(str(bad), str(tmp_path / "r.csv"), "cfog")
    with pytest.raises(InputError, match="unknown"):
        match_batch(str(path), str(tmp_path / "r.csv"), "sift")
    with pytest.raises(InputError, match="reference kind"):
        match_batch(str(path), str(tmp_path / "r.csv"), "cfog", reference_kind="linear")
    assert not (tmp_path / "r.csv").exists()
