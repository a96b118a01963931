"""Bad input and faults through the command line: exit code 2, one clear line, nothing written.

Every case runs ``sarcoreg coregister`` in-process (``sarcoreg.cli.main``) on small
generated rasters and checks: the exit code, that stderr (captured at the file-descriptor
level, so GDAL's own messages count too) is exactly one line saying what is wrong, no
traceback, and that the output folder was not created (or, when it existed, is unchanged
byte for byte).  Faults: a cancel and Ctrl-C leave no file under a final name, and a full
disk (a tiny tmpfs, mounted only where this user may mount; skipped elsewhere) gives a clear
error and nothing corrupt.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from helpers_rasters import GT_DEFAULT, texture, tree_digest, write_raster

from sarcoreg.cli import main
from sarcoreg.core.config import CoregConfig
from sarcoreg.core.coregister import coregister
from sarcoreg.core.errors import CancelledError
from sarcoreg.core.feedback import NullFeedback
from children import CancelAt, child_env, default_ctrl_c, interrupt_when

SMALL = ["--window", "64", "--template", "48", "--matcher", "zncc"]
FINAL_NAMES = ("tiepoints.gpkg", "similarity", "similarity.vrt", "shift_field.tif", "tiepoints.points",
               "report.json", "sar_corrected.tif")


@pytest.fixture()
def pair(tmp_path):
    """A valid generated pair (same texture in both, EPSG:32611, 10 m, 200 x 200 px)."""
    img = texture(200, 200, seed=1)
    opt = write_raster(tmp_path / "opt.tif", img)
    sar = write_raster(tmp_path / "sar.tif", img)
    return Path(opt), Path(sar)


def run_cli(capfd, *argv):
    """``(exit code, stderr lines, stdout)`` of ``sarcoreg argv``."""
    rc = main([str(a) for a in argv])
    captured = capfd.readouterr()
    return rc, [line for line in captured.err.splitlines() if line.strip()], captured.out


def assert_refused(capfd, outdir: Path, argv, *phrases):
    rc, err, out = run_cli(capfd, "coregister", *argv, "-o", outdir, *SMALL)
    assert rc == 2, (rc, err, out)
    assert len(err) == 1, err
    assert err[0].startswith("sarcoreg: error: "), err
    assert "Traceback" not in err[0]
    for phrase in phrases:
        assert phrase in err[0], err[0]
    assert not outdir.exists(), sorted(p.name for p in outdir.rglob("*"))
    return err[0]


# --------------------------------------------------------------------------- unreadable inputs

def test_missing_file(capfd, tmp_path, pair):
    assert_refused(capfd, tmp_path / "out", [tmp_path / "nope.tif", pair[1]], "nope.tif", "no such file")


def test_not_a_raster(capfd, tmp_path, pair):
    text = tmp_path / "notes.tif"
    text.write_text("these are field notes, not a raster\n")
    assert_refused(capfd, tmp_path / "out", [text, pair[1]], "notes.tif", "cannot read it as a raster")


def test_a_folder_instead_of_a_raster(capfd, tmp_path, pair):
    (tmp_path / "scenes").mkdir()
    assert_refused(capfd, tmp_path / "out", [tmp_path / "scenes", pair[1]], "is a folder")


def test_truncated_geotiff(capfd, tmp_path, pair):
    full = write_raster(tmp_path / "full.tif", texture(300, 300, seed=2))
    data = Path(full).read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(data[: len(data) // 2])
    assert_refused(capfd, tmp_path / "out", [pair[0], cut], "cut.tif", "truncated or corrupt")


def test_corrupt_geotiff(capfd, tmp_path, pair):
    """Garbage in the middle of a compressed file: found when its windows are read."""
    img = texture(200, 200, seed=1)
    good = write_raster(tmp_path / "good.tif", img, options=["COMPRESS=DEFLATE", "TILED=YES",
                                                                "BLOCKXSIZE=64", "BLOCKYSIZE=64"])
    data = bytearray(Path(good).read_bytes())
    start = len(data) // 3
    data[start:start + len(data) // 3] = b"\xab" * (len(data) // 3)
    bad = tmp_path / "bad.tif"
    bad.write_bytes(bytes(data))
    assert_refused(capfd, tmp_path / "out", [bad, pair[1]], "bad.tif", "corrupt")


def test_gdal_messages_with_line_breaks_become_one_line(capfd, tmp_path, pair):
    """GDAL's messages may span lines (GDAL >= 3.10 chains causes: "... failed.\\nMay be
    caused by: ZIPDecode: ..."; here on any GDAL: the file name holds a line break, and GDAL
    repeats it in its own message): the error is still one line."""
    img = texture(200, 200, seed=1)
    good = write_raster(tmp_path / "good.tif", img, options=["COMPRESS=DEFLATE", "TILED=YES",
                                                                "BLOCKXSIZE=64", "BLOCKYSIZE=64"])
    data = bytearray(Path(good).read_bytes())
    start = len(data) // 3
    data[start:start + len(data) // 3] = b"\xab" * (len(data) // 3)
    bad = tmp_path / "bad\nscene.tif"
    bad.write_bytes(bytes(data))
    line = assert_refused(capfd, tmp_path / "out", [bad, pair[1]], "bad scene.tif", "corrupt")
    assert "\n" not in line


def test_no_crs(capfd, tmp_path, pair):
    nocrs = write_raster(tmp_path / "nocrs.tif", texture(200, 200), epsg=None)
    assert_refused(capfd, tmp_path / "out", [nocrs, pair[1]], "nocrs.tif", "no CRS")


def test_scenes_that_do_not_overlap(capfd, tmp_path, pair):
    far = write_raster(tmp_path / "far.tif", texture(200, 200), geotransform=(900000.0, 10, 0, 3800000.0, 0, -10))
    assert_refused(capfd, tmp_path / "out", [pair[0], far], "do not overlap")


def test_overlap_smaller_than_one_window(capfd, tmp_path, pair):
    # 200 px scenes moved by 170 px: a 30 x 30 px overlap for a 64 px window
    gt = (GT_DEFAULT[0] + 1700.0, 10.0, 0.0, GT_DEFAULT[3] - 1700.0, 0.0, -10.0)
    corner = write_raster(tmp_path / "corner.tif", texture(200, 200), geotransform=gt)
    assert_refused(capfd, tmp_path / "out", [pair[0], corner], "30 x 30 px", "smaller than one window")


@pytest.mark.parametrize("role, gdal_type, fill, nodata", [
    ("optical", gdal.GDT_Byte, 0, 0),
    ("sar", gdal.GDT_Float32, np.nan, None),
    ("sar", gdal.GDT_Byte, 0, 0),
], ids=["optical-uint8-nodata0", "sar-float-nan", "sar-uint8-nodata0"])
def test_all_nodata_image(capfd, tmp_path, pair, role, gdal_type, fill, nodata):
    empty = write_raster(tmp_path / "empty.tif", np.full((200, 200), fill, np.float32), nodata=nodata,
                         gdal_type=gdal_type)
    argv = [empty, pair[1]] if role == "optical" else [pair[0], empty]
    assert_refused(capfd, tmp_path / "out", argv, "nodata")


def test_complex_slc_sar(capfd, tmp_path, pair):
    img = texture(200, 200)
    slc = write_raster(tmp_path / "slc.tif", (img + 1j * img).astype(np.complex64), gdal_type=gdal.GDT_CFloat32)
    assert_refused(capfd, tmp_path / "out", [pair[0], slc], "complex", "SLC")


def test_one_by_one_raster(capfd, tmp_path, pair):
    dot = write_raster(tmp_path / "dot.tif", np.ones((1, 1), np.float32))
    assert_refused(capfd, tmp_path / "out", [dot, pair[1]], "1 x 1 px")


@pytest.mark.parametrize("type_name", ["UInt64", "Int64"])
def test_unsupported_data_type(capfd, tmp_path, pair, type_name):
    gdal_type = getattr(gdal, f"GDT_{type_name}", None)
    if gdal_type is None:
        pytest.skip(f"GDAL {gdal.__version__} has no {type_name} rasters")
    odd = write_raster(tmp_path / "odd.tif", np.ones((200, 200)), gdal_type=gdal_type)
    assert_refused(capfd, tmp_path / "out", [pair[0], odd], "unsupported data type", type_name)


# --------------------------------------------------------------------------- outputs

def test_existing_output_is_left_untouched_without_overwrite(capfd, tmp_path, pair):
    outdir = tmp_path / "out"
    rc, err, _ = run_cli(capfd, "coregister", *pair, "-o", outdir, *SMALL)
    assert rc == 0, err
    before = tree_digest(outdir)
    stats = {p: p.stat().st_mtime_ns for p in outdir.rglob("*")}
    rc, err, _ = run_cli(capfd, "coregister", *pair, "-o", outdir, *SMALL)
    assert rc == 2 and len(err) == 1, err
    assert "already holds" in err[0] and "--overwrite" in err[0]
    assert tree_digest(outdir) == before
    assert {p: p.stat().st_mtime_ns for p in outdir.rglob("*")} == stats
    rc, err, _ = run_cli(capfd, "coregister", *pair, "-o", outdir, *SMALL, "--overwrite")
    assert rc == 0, err


def test_output_path_is_a_file(capfd, tmp_path, pair):
    target = tmp_path / "taken"
    target.write_text("keep me")
    rc, err, _ = run_cli(capfd, "coregister", *pair, "-o", target, *SMALL)
    assert rc == 2 and len(err) == 1 and "is not a folder" in err[0], err
    assert target.read_text() == "keep me"


@contextlib.contextmanager
def tmpfs(mountpoint: Path, size: str, read_only: bool = False):
    """A tmpfs at ``mountpoint`` for the block; skips the test where mounting is not allowed."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    opts = f"size={size}" + (",ro" if read_only else "")
    try:
        proc = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(mountpoint)],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot run mount here ({exc})")
    if proc.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {proc.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], capture_output=True, timeout=30)


def test_unwritable_output_folder(capfd, tmp_path, pair):
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        try:
            assert_refused(capfd, locked / "out", list(pair), "cannot write there")
        finally:
            locked.chmod(0o755)
        return
    # root writes through any permission bits: a read-only file system stops it
    with tmpfs(tmp_path / "ro", "1m", read_only=True) as ro:
        assert_refused(capfd, ro / "out", list(pair), "cannot write there", "Read-only file system")


def test_full_disk(capfd, tmp_path, pair):
    """A 160 KiB tmpfs cannot hold the outputs (81 windows): refused before anything is
    written, in one line (a write that fills the disk makes libtiff print its own errors
    with GDAL >= 3.10)."""
    with tmpfs(tmp_path / "small", "160k") as disk:
        outdir = disk / "out"
        rc, err, out = run_cli(capfd, "coregister", *pair, "-o", outdir, *SMALL, "--spacing", "16")
        assert rc == 2, (rc, err, out)
        assert len(err) == 1 and "the disk is full" in err[0], err
        assert not outdir.exists(), sorted(p.name for p in outdir.rglob("*"))
        assert list(disk.iterdir()) == []


def test_disk_filling_up_during_the_run_leaves_nothing(tmp_path, pair):
    """The disk fills up while the windows are matched (another program writes): the run
    fails with a clear error and leaves nothing under a final name."""
    from sarcoreg.core.errors import OutputError

    class FillDisk(NullFeedback):
        def __init__(self, disk: Path) -> None:
            super().__init__()
            self.disk, self.filled = disk, False

        def set_progress(self, percent: float) -> None:
            super().set_progress(percent)
            if percent > 20 and not self.filled:
                self.filled = True
                with open(self.disk / "filler.bin", "wb") as fh:
                    try:
                        while True:
                            fh.write(b"\0" * 65536)
                    except OSError:
                        pass

    with tmpfs(tmp_path / "small", "2m") as disk:
        outdir = disk / "out"
        cfg = CoregConfig(matcher="zncc", window_px=64, template_px=48, spacing_px=16)
        with pytest.raises(OutputError, match="the disk is full"):
            coregister(str(pair[0]), str(pair[1]), outdir, cfg, FillDisk(disk))
        assert not outdir.exists(), sorted(p.name for p in outdir.rglob("*"))
        assert [p.name for p in disk.iterdir()] == ["filler.bin"]


# --------------------------------------------------------------------------- cancel and Ctrl-C



def test_cancel_leaves_nothing_under_a_final_name_and_a_rerun_completes(tmp_path, pair):
    outdir = tmp_path / "out"
    config = CoregConfig(matcher="zncc", window_px=64, template_px=48, spacing_px=16, workers=2)
    with pytest.raises(CancelledError):
        coregister(str(pair[0]), str(pair[1]), outdir, config, CancelAt(30.0))
    assert not outdir.exists()
    result = coregister(str(pair[0]), str(pair[1]), outdir, config, NullFeedback())
    assert result.report["counts"]["windows"] > 0
    assert all((outdir / n).exists() for n in FINAL_NAMES[:-1])






@pytest.mark.slow
def test_ctrl_c_leaves_nothing_under_a_final_name(tmp_path):
    """SIGINT to a running ``sarcoreg coregister``: exit 130, one line, no final names."""
    img = texture(1200, 1200, seed=3)
    opt = write_raster(tmp_path / "opt.tif", img)
    sar = write_raster(tmp_path / "sar.tif", img)
    outdir = tmp_path / "out"
    cmd = [sys.executable, "-m", "sarcoreg", "coregister", opt, sar, "-o", str(outdir), "--matcher", "zncc",
           "--window", "64", "--template", "48", "--spacing", "8", "--threads", "1"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=default_ctrl_c)
    _out, err = interrupt_when(
        proc, lambda: outdir.exists() and len(list(outdir.glob(".sarcoreg-partial-*/similarity/*.tif"))) >= 20)
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == 130, (proc.returncode, err)
    assert len(lines) == 1 and "interrupted" in lines[0], err
    assert not outdir.exists() or not any(outdir.iterdir()), sorted(p.name for p in outdir.iterdir())
