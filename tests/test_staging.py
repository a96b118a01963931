import os

import pytest

from sarcoreg.core.errors import OutputExistsError
from sarcoreg.core.staging import OutputStage


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
