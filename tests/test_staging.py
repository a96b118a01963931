import os

import pytest

from sarcoreg.core.errors import CancelledError, OutputError, OutputExistsError
from sarcoreg.core.staging import OutputStage, atomic_file


def test_existing_output_is_refused_and_left_untouched(tmp_path):
    (tmp_path / "report.json").write_text("old")
    with pytest.raises(OutputExistsError, match="--overwrite"):
        OutputStage(tmp_path, ["report.json", "similarity"])
    assert (tmp_path / "report.json").read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["report.json"]


def test_failure_leaves_nothing_and_commit_moves_everything(tmp_path):
    with pytest.raises(RuntimeError):
        with OutputStage(tmp_path, ["a.txt"]) as st:
            (st / "a.txt").write_text("half")
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "old.tif").write_text("x")
    with OutputStage(tmp_path, ["a.txt", "d"], overwrite=True) as st:
        (st / "a.txt").write_text("new")
        (st / "d").mkdir()
        (st / "d" / "new.tif").write_text("y")
        st.commit()
    assert sorted(os.listdir(tmp_path)) == ["a.txt", "d"]
    assert os.listdir(tmp_path / "d") == ["new.tif"]


@pytest.mark.parametrize("failure", [RuntimeError("boom"), KeyboardInterrupt(), CancelledError("stop")])
def test_atomic_file_keeps_the_old_file_when_the_writer_fails(tmp_path, failure):
    target = tmp_path / "summary.csv"
    target.write_text("old")
    with pytest.raises(type(failure)):
        with atomic_file(target) as fh:
            fh.write("half of the new")
            raise failure
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["summary.csv"]


def test_atomic_file_replaces_the_file_when_complete(tmp_path):
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")
    with atomic_file(target, "wb") as fh:
        fh.write(b"new")
        assert target.read_bytes() == b"old"  # not in place before the block completes
        assert [n for n in os.listdir(tmp_path) if n != "model.bin"][0].startswith(".model.bin.")
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["model.bin"]
    with atomic_file(tmp_path / "new.txt", newline="", encoding="utf-8") as fh:
        fh.write("a\r\nb")
    assert (tmp_path / "new.txt").read_bytes() == b"a\r\nb"
    (tmp_path / "plain.txt").write_text("")
    assert (tmp_path / "new.txt").stat().st_mode == (tmp_path / "plain.txt").stat().st_mode  # usual permissions


def test_atomic_file_in_a_missing_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="cannot write there"):
        with atomic_file(tmp_path / "missing" / "x.json"):
            pass
    assert os.listdir(tmp_path) == []
