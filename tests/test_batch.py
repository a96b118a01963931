"""Batch co-registration on Dask (``core.batch``).

The cluster tests start a real ``dask scheduler`` and two ``dask worker`` processes on
127.0.0.1 (free ports, no dashboard) and run real Los Angeles pairs (1024 x 1024 tiles from
``../shared/data/s1s2_la`` with a known shift added to the SAR georeferencing) with small
windows, so each pair has 16 windows spread over the cluster.  One worker is killed with
SIGKILL in the middle of a batch, which must still finish with outputs identical to a
serial run.  Resuming, cancel, Ctrl-C, bad pairs and a bad CSV are covered too; the CSV
parsing and the summary logic are tested without a cluster.
"""
from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal, ogr

from helpers_rasters import (read_json, shifted_la_pairs, texture, tree_digest, write_pairs_csv,
                             write_raster)

from sarcoreg.core import batch, batch_files
from sarcoreg.core.batch import (MANIFEST, SUMMARY_CSV, SUMMARY_JSON, BatchSummary, PairOutcome,
                                 file_fingerprint, read_pairs, run_batch, sanitise_name)
from sarcoreg.cli import main
from sarcoreg.core.config import CoregConfig
from sarcoreg.core.errors import CancelledError, InputError
from sarcoreg.core.feedback import NullFeedback
from children import CancelAt, child_env, default_ctrl_c, interrupt_when

CONFIG = CoregConfig(matcher="cfog", window_px=256, template_px=192)
SMALL_ARGS = ["--matcher", "cfog", "--window", "256", "--template", "192"]
SHIFTS_M = [(30.0, -20.0), (-25.0, 15.0), (12.0, 27.0)]
FINAL_NAMES = ("tiepoints.gpkg", "similarity", "similarity.vrt", "shift_field.tif", "tiepoints.points",
               "report.json")







def serial_run(pairs, outroot: Path) -> None:
    """Co-register ``pairs`` one after the other, one window at a time, in a fresh process."""
    code = ("import json, sys\n"
            "from sarcoreg.core.config import CoregConfig\n"
            "from sarcoreg.core.coregister import coregister\n"
            "for optical, sar, outdir in json.loads(sys.argv[1]):\n"
            "    coregister(optical, sar, outdir, CoregConfig(matcher='cfog', window_px=256, template_px=192, workers=1))\n")
    jobs = [(p.optical, p.sar, str(outroot / p.name)) for p in pairs]
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(jobs)], cwd=outroot.parent, env=child_env(),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------------------------- a real cluster

class LoopbackCluster:
    """A ``dask scheduler`` and named ``dask worker`` processes on 127.0.0.1 (no nanny, so a
    killed worker stays dead)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.scheduler_file = folder / "scheduler.json"
        self.procs: dict = {}
        self.address = ""

    def _spawn(self, name: str, args) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", *args], cwd=self.folder, env=child_env(),
                                stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.procs[name] = proc
        return proc

    def start(self, n_workers: int = 2) -> "LoopbackCluster":
        self._spawn("scheduler", ["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--dashboard-address", "127.0.0.1:0",
                                  "--scheduler-file", str(self.scheduler_file)])
        deadline = time.monotonic() + 90
        while not self.address:
            if time.monotonic() > deadline or self.procs["scheduler"].poll() is not None:
                raise RuntimeError(f"the dask scheduler did not start: {self.log('scheduler')}")
            try:
                self.address = json.loads(self.scheduler_file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.2)
        self.ensure_workers(n_workers)
        return self

    def start_worker(self, name: str) -> None:
        (self.folder / name).mkdir(exist_ok=True)
        self._spawn(name, ["distributed.cli.dask_worker", self.address, "--host", "127.0.0.1", "--nthreads", "1",
                           "--no-nanny", "--no-dashboard", "--name", name, "--death-timeout", "60",
                           "--local-directory", str(self.folder / name)])

    def alive_workers(self):
        return sorted(n for n, p in self.procs.items() if n.startswith("w") and p.poll() is None)

    def ensure_workers(self, n: int) -> None:
        k = 0
        while len(self.alive_workers()) < n:
            name = f"w{k}"
            if name not in self.procs or self.procs[name].poll() is not None:
                self.start_worker(name)
            k += 1
        from distributed import Client
        with Client(self.address, timeout="30s", set_as_default=False) as client:
            client.wait_for_workers(n, timeout=120)

    def kill(self, name: str) -> None:
        os.kill(self.procs[name].pid, signal.SIGKILL)

    def log(self, name: str) -> str:
        try:
            return (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    pytest.importorskip("distributed")
    c = LoopbackCluster(tmp_path_factory.mktemp("dask"))
    try:
        yield c.start(2)
    finally:
        c.stop()


@pytest.fixture(scope="module")
def la_pairs(shared_data, tmp_path_factory):
    return shifted_la_pairs(shared_data, tmp_path_factory.mktemp("la"), SHIFTS_M)


def pairs_csv(folder: Path, pairs) -> Path:
    return write_pairs_csv(folder / "pairs.csv", [(p.optical, p.sar, p.name) for p in pairs])


# --------------------------------------------------------------------------- comparing outputs

def _features(gpkg: Path) -> list:
    ds = ogr.Open(str(gpkg))
    layer = ds.GetLayerByName("tiepoints")
    rows = []
    for feat in layer:
        geom = feat.GetGeometryRef()
        rows.append((feat.items(), geom.GetX(), geom.GetY()))
    del layer, ds
    return rows


def _pixels(tif: Path) -> np.ndarray:
    ds = gdal.Open(str(tif))
    arr = ds.ReadAsArray()
    gt, wkt = ds.GetGeoTransform(), ds.GetProjection()
    del ds
    return arr, gt, wkt


def assert_same_outputs(a: Path, b: Path) -> None:
    """Two co-registrations of one pair wrote the same results (timings aside)."""
    assert _features(a / "tiepoints.gpkg") == _features(b / "tiepoints.gpkg")
    for rel in ["shift_field.tif"] + sorted(str(p.relative_to(a)) for p in (a / "similarity").glob("*.tif")):
        (xa, gta, wa), (xb, gtb, wb) = _pixels(a / rel), _pixels(b / rel)
        np.testing.assert_array_equal(xa, xb, err_msg=rel)
        assert (gta, wa) == (gtb, wb), rel
    assert sorted(p.name for p in (a / "similarity").iterdir()) == sorted(p.name for p in (b / "similarity").iterdir())
    for name in ("tiepoints.points", "similarity.vrt"):
        assert (a / name).read_text() == (b / name).read_text(), name
    ra, rb = read_json(a / "report.json"), read_json(b / "report.json")
    for r in (ra, rb):
        r.pop("timings")
        r["config"].pop("workers")
    assert ra == rb


def assert_no_partial_outputs(outroot: Path) -> None:
    """Each pair folder is either complete (manifest + outputs) or holds no final name."""
    for folder in (p for p in outroot.iterdir() if p.is_dir()):
        assert not list(folder.glob(".sarcoreg-partial-*")), folder
        manifest = folder / MANIFEST
        present = [n for n in FINAL_NAMES if (folder / n).exists()]
        if manifest.exists() and read_json(manifest)["state"] == "complete":
            assert present == list(FINAL_NAMES), folder
        else:
            assert present == [], (folder, present)


class KillWorkerAt(NullFeedback):
    """Once the batch progress passes ``percent``, kills (SIGKILL) a worker that is busy
    with chunks of windows, and records which."""

    def __init__(self, cluster: LoopbackCluster, monitor, percent: float) -> None:
        super().__init__()
        self.cluster, self.monitor, self.percent = cluster, monitor, percent
        self.killed_at = None
        self.victim = None
        self.lost_keys: list = []

    def set_progress(self, percent: float) -> None:
        super().set_progress(percent)
        if self.killed_at is None and percent >= self.percent:
            names = {addr: w["name"] for addr, w in self.monitor.scheduler_info()["workers"].items()}
            busy = {names[addr]: keys for addr, keys in self.monitor.processing().items() if keys}
            if not busy:
                return  # try again at the next window
            self.victim, self.lost_keys = sorted(busy.items())[0]
            self.killed_at = percent
            self.cluster.kill(self.victim)




# --------------------------------------------------------------------------- on the cluster

@pytest.mark.slow
@pytest.mark.shared_data
def test_batch_survives_a_killed_worker_and_equals_a_serial_run(cluster, la_pairs, tmp_path):
    from distributed import Client

    cluster.ensure_workers(2)
    csv_path = pairs_csv(tmp_path, la_pairs)
    with Client(cluster.address, timeout="30s", set_as_default=False) as monitor:
        feedback = KillWorkerAt(cluster, monitor, 25.0)
        summary = run_batch(csv_path, tmp_path / "batch", CONFIG, scheduler=cluster.address, feedback=feedback)

    # a worker died with chunks of windows on it, in the middle of the batch
    assert feedback.killed_at is not None and feedback.killed_at < 100.0
    assert feedback.lost_keys and all(str(k).startswith("sarcoreg-match-") for k in feedback.lost_keys)
    assert cluster.procs[feedback.victim].wait(timeout=30) == -signal.SIGKILL
    assert [o.status for o in summary.outcomes] == ["ok"] * len(la_pairs), summary.text()
    assert summary.exit_code() == 0
    assert feedback.progress == pytest.approx(100.0)

    # the summary files list every pair; each pair has a complete manifest
    with open(tmp_path / "batch" / SUMMARY_CSV, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["name"] for r in rows] == [p.name for p in la_pairs]
    assert all(r["status"] == "ok" and int(r["windows"]) == 16 for r in rows)
    doc = read_json(tmp_path / "batch" / SUMMARY_JSON)
    assert doc["counts"]["ok"] == len(la_pairs) and len(doc["pairs"]) == len(la_pairs)
    assert_no_partial_outputs(tmp_path / "batch")

    serial_run(la_pairs, tmp_path / "serial")
    for pair, outcome in zip(la_pairs, summary.outcomes):
        manifest = read_json(tmp_path / "batch" / pair.name / MANIFEST)
        assert manifest["state"] == "complete" and manifest["config"]["window_px"] == 256
        # identical to a serial run of the same pair
        assert_same_outputs(tmp_path / "batch" / pair.name, tmp_path / "serial" / pair.name)
        # and the known shift is recovered (median of the inliers, within 2 px)
        err_px = math.hypot(outcome.median_dx_m - pair.truth_m[0], outcome.median_dy_m - pair.truth_m[1]) / 10.0
        assert err_px < 2.0, (pair.name, outcome, pair.truth_m)


@pytest.mark.slow
@pytest.mark.shared_data
def test_rerun_skips_complete_pairs_and_redoes_changed_or_unfinished_ones(cluster, shared_data, tmp_path):
    pairs = shifted_la_pairs(shared_data, tmp_path / "in", SHIFTS_M[:2], copy_optical=True)
    csv_path = pairs_csv(tmp_path, pairs)
    outroot = tmp_path / "out"
    first = run_batch(csv_path, outroot, CONFIG, scheduler=cluster.address)
    assert [o.status for o in first.outcomes] == ["ok", "ok"]
    kept = tree_digest(outroot / pairs[0].name)

    again = run_batch(csv_path, outroot, CONFIG, scheduler=cluster.address)
    assert [o.status for o in again.outcomes] == ["skipped_complete"] * 2
    assert again.outcomes[0].windows == 16 and again.outcomes[0].median_dx_m == first.outcomes[0].median_dx_m
    assert again.cluster.startswith("no cluster")
    assert tree_digest(outroot / pairs[0].name) == kept

    # the second pair's optical is rewritten (same pixels, new file): it is redone
    optical = Path(pairs[1].optical)
    optical.write_bytes(optical.read_bytes())
    os.utime(optical, ns=(time.time_ns(), time.time_ns() + 10**9))
    # the first pair looks interrupted: a 'started' manifest and only some outputs
    manifest = read_json(outroot / pairs[0].name / MANIFEST)
    manifest["state"] = "started"
    (outroot / pairs[0].name / MANIFEST).write_text(json.dumps(manifest))
    (outroot / pairs[0].name / "report.json").unlink()
    redo = run_batch(csv_path, outroot, CONFIG, scheduler=cluster.address)
    assert [o.status for o in redo.outcomes] == ["ok", "ok"], redo.text()
    assert tree_digest(outroot / pairs[0].name).keys() == kept.keys()

    # a folder with outputs but no manifest is not the batch's: refused, left as it is
    (outroot / pairs[1].name / MANIFEST).unlink()
    foreign = tree_digest(outroot / pairs[1].name)
    refused = run_batch(csv_path, outroot, CONFIG, scheduler=cluster.address)
    assert [o.status for o in refused.outcomes] == ["skipped_complete", "bad_input"]
    assert "--overwrite" in refused.outcomes[1].message
    assert refused.exit_code() == 2
    assert tree_digest(outroot / pairs[1].name) == foreign


@pytest.mark.slow
@pytest.mark.shared_data
def test_cancel_keeps_finished_pairs_only_and_a_rerun_resumes(cluster, la_pairs, tmp_path):
    csv_path = pairs_csv(tmp_path, la_pairs)
    outroot = tmp_path / "out"
    with pytest.raises(CancelledError, match="run the same command again"):
        run_batch(csv_path, outroot, CONFIG, scheduler=cluster.address, feedback=CancelAt(40.0),
                  max_parallel_pairs=1)
    assert_no_partial_outputs(outroot)
    doc = read_json(outroot / SUMMARY_JSON)
    assert doc["cancelled"] is True
    statuses = [p["status"] for p in doc["pairs"]]
    assert "cancelled" in statuses and set(statuses) <= {"ok", "cancelled"}
    done_before = {p["name"] for p in doc["pairs"] if p["status"] == "ok"}

    resumed = run_batch(csv_path, outroot, CONFIG, scheduler=cluster.address)
    for o in resumed.outcomes:
        assert o.status == ("skipped_complete" if o.name in done_before else "ok"), resumed.text()
    assert_no_partial_outputs(outroot)


@pytest.mark.slow
@pytest.mark.shared_data
def test_ctrl_c_stops_the_batch_cleanly(cluster, la_pairs, tmp_path):
    csv_path = pairs_csv(tmp_path, la_pairs)
    outroot = tmp_path / "out"
    cmd = [sys.executable, "-m", "sarcoreg", "batch", str(csv_path), "-o", str(outroot),
           "--scheduler", cluster.address, *SMALL_ARGS]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=child_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=default_ctrl_c)
    _out, err = interrupt_when(proc, lambda: any(outroot.glob("*/.sarcoreg-partial-*/similarity/*.tif")))
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == 130, (proc.returncode, err)
    assert len(lines) == 1 and "interrupted" in lines[0], err
    assert_no_partial_outputs(outroot)
    assert read_json(outroot / SUMMARY_JSON)["cancelled"] is True


# --------------------------------------------------------------------------- the default local cluster

@pytest.mark.slow
@pytest.mark.shared_data
def test_cli_batch_on_a_local_cluster_reports_bad_pairs_and_goes_on(capfd, la_pairs, tmp_path):
    good = la_pairs[0]
    text = tmp_path / "notes.tif"
    text.write_text("not a raster\n")
    nocrs = write_raster(tmp_path / "nocrs.tif", texture(64, 64), epsg=None)
    rows = [(good.optical, good.sar, "good"), ("missing.tif", good.sar, "missing"),
            (str(text), good.sar, "text"), (good.optical, nocrs, "nocrs")]
    csv_path = write_pairs_csv(tmp_path / "pairs.csv", rows)
    rc = main(["batch", str(csv_path), "-o", str(tmp_path / "out"), "--workers", "1", *SMALL_ARGS])
    captured = capfd.readouterr()
    assert rc == 2, captured
    assert captured.out.splitlines()[0].startswith("4 pairs in ")
    assert "1 ok, 3 bad input" in captured.out and "local Dask cluster of 1 worker" in captured.out
    doc = read_json(tmp_path / "out" / SUMMARY_JSON)
    by_name = {p["name"]: p for p in doc["pairs"]}
    assert by_name["good"]["status"] == "ok" and by_name["good"]["windows"] == 16
    assert "no such file" in by_name["missing"]["message"]
    assert "cannot read it as a raster" in by_name["text"]["message"]
    assert "no CRS" in by_name["nocrs"]["message"]
    # bad pairs leave no folder behind
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(["good", SUMMARY_CSV, SUMMARY_JSON])


# --------------------------------------------------------------------------- batch-level bad input

def _refused(capfd, argv, *phrases):
    rc = main([str(a) for a in argv])
    err = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert rc == 2, err
    assert len(err) == 1 and err[0].startswith("sarcoreg: error: "), err
    for phrase in phrases:
        assert phrase in err[0], err[0]


def test_missing_csv_is_refused(capfd, tmp_path):
    _refused(capfd, ["batch", tmp_path / "nope.csv", "-o", tmp_path / "out"], "nope.csv", "no such file")
    assert not (tmp_path / "out").exists()


def test_malformed_csv_is_refused_before_anything_runs(capfd, tmp_path):
    bad = tmp_path / "pairs.csv"
    bad.write_text("a.tif,b.tif\nonly_one_path.tif\n")
    _refused(capfd, ["batch", bad, "-o", tmp_path / "out"], "line 2", "optical,sar")
    assert not (tmp_path / "out").exists()
    empty = tmp_path / "empty.csv"
    empty.write_text("optical,sar,name\n# nothing yet\n\n")
    _refused(capfd, ["batch", empty, "-o", tmp_path / "out"], "holds no pairs")


def test_output_root_that_is_a_file_is_refused(capfd, tmp_path):
    write_pairs_csv(tmp_path / "pairs.csv", [("a.tif", "b.tif")])
    (tmp_path / "out").write_text("keep")
    _refused(capfd, ["batch", tmp_path / "pairs.csv", "-o", tmp_path / "out"], "is not a folder")
    assert (tmp_path / "out").read_text() == "keep"


@pytest.mark.slow
def test_unreachable_scheduler_is_refused(capfd, tmp_path):
    pytest.importorskip("distributed")
    import socket
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    write_pairs_csv(tmp_path / "pairs.csv", [("a.tif", "b.tif")])
    _refused(capfd, ["batch", tmp_path / "pairs.csv", "-o", tmp_path / "out", "--scheduler",
                     f"tcp://127.0.0.1:{port}"], "cannot reach the Dask scheduler")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- without a cluster

def test_read_pairs_header_relative_paths_names_and_comments(tmp_path):
    (tmp_path / "sub").mkdir()
    text = ("\ufeffsar,optical,name,notes\n"
            "# a comment\n"
            "s1/a.tif,s2/scene one.tif,,x\n"
            "/abs/sar.tif,sub/../s2/scene one.tif,,\n"
            "b.tif,c.tif,../../etc/passwd\n"
            "\n"
            "d.tif,e.tif,batch_summary.csv\n")
    (tmp_path / "pairs.csv").write_text(text, encoding="utf-8")
    specs = read_pairs(tmp_path / "pairs.csv")
    assert [s.name for s in specs] == ["scene_one", "scene_one_2", "etc_passwd", "batch_summary.csv_2"]
    assert specs[0].optical == str(tmp_path / "s2" / "scene one.tif")
    assert specs[0].sar == str(tmp_path / "s1" / "a.tif")
    assert specs[1].sar == "/abs/sar.tif" and specs[1].optical == specs[0].optical
    assert [s.line for s in specs] == [3, 4, 5, 7]


def test_read_pairs_without_header_is_positional(tmp_path):
    (tmp_path / "p.csv").write_text("o1.tif,s1.tif\no2.tif,s2.tif,Second Pair!\n")
    specs = read_pairs(tmp_path / "p.csv")
    assert [(Path(s.optical).name, Path(s.sar).name, s.name) for s in specs] == [
        ("o1.tif", "s1.tif", "o1"), ("o2.tif", "s2.tif", "Second_Pair")]


@pytest.mark.parametrize("raw, name", [("a b/c", "a_b_c"), ("...", "pair"), ("x__y", "x__y"),
                                        ("Été 2020", "t_2020"), (".hidden", "hidden")])
def test_sanitise_name(raw, name):
    assert sanitise_name(raw) == name


def test_read_pairs_refuses_a_bad_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_pairs(tmp_path / "none.csv")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81 not text")
    with pytest.raises(InputError, match="CSV"):
        read_pairs(tmp_path / "bin.csv")


def test_file_fingerprint_small_and_large(tmp_path):
    small = tmp_path / "small.bin"
    small.write_bytes(b"abc" * 100)
    fp = file_fingerprint(str(small))
    assert fp["size"] == 300 and "sha256" in fp
    large = tmp_path / "large.bin"
    large.write_bytes(bytes(3 << 20))
    before = file_fingerprint(str(large))
    assert "sha256-first-last-MiB" in before
    with open(large, "r+b") as fh:  # change the last byte, keep the size
        fh.seek((3 << 20) - 1)
        fh.write(b"\x01")
    after = file_fingerprint(str(large))
    assert after["sha256-first-last-MiB"] != before["sha256-first-last-MiB"]


def _outcome(name, status):
    return PairOutcome(name, status, f"{status} message", "o.tif", "s.tif", f"/out/{name}")


@pytest.mark.parametrize("statuses, code", [
    (["ok", "skipped_complete"], 0), (["ok", "bad_input"], 2), (["bad_input", "error", "ok"], 1),
    (["ok", "cancelled"], 130)])
def test_summary_exit_code_and_text(statuses, code):
    s = BatchSummary("/out", tuple(_outcome(f"p{i}", st) for i, st in enumerate(statuses)), 1.0, "a test cluster")
    assert s.exit_code() == code
    text = s.text().splitlines()
    assert text[0].startswith(f"{len(statuses)} pairs in 1.0 s on a test cluster")
    failed = [st for st in statuses if st not in ("ok", "skipped_complete")]
    assert len(text) == 2 + len(failed)
    assert text[-1] == "summary in /out/batch_summary.csv"


def test_plan_redoes_a_pair_when_the_config_changes(tmp_path):
    spec = batch.PairSpec("p", str(tmp_path / "o.tif"), str(tmp_path / "s.tif"), 1)
    (tmp_path / "o.tif").write_bytes(b"o")
    (tmp_path / "s.tif").write_bytes(b"s")
    outdir = tmp_path / "out" / "p"
    outdir.mkdir(parents=True)
    for name in ("report.json", "tiepoints.gpkg"):
        (outdir / name).write_text("{}")
    inputs = {"optical": batch.input_fingerprint(spec.optical), "sar": batch.input_fingerprint(spec.sar)}
    batch_files.write_manifest(outdir, "complete", spec, CONFIG, inputs)
    done, job = batch._plan(0, spec, tmp_path / "out", CONFIG, overwrite=False)
    assert done is not None and done.status == "skipped_complete" and job is None
    # a thread count does not change results; a window size does
    done, job = batch._plan(0, spec, tmp_path / "out", replace(CONFIG, workers=3), overwrite=False)
    assert done is not None
    done, job = batch._plan(0, spec, tmp_path / "out", replace(CONFIG, window_px=320, template_px=256), False)
    assert done is None and job.redo
    done, job = batch._plan(0, spec, tmp_path / "out", CONFIG, overwrite=True)
    assert done is None and job.redo
