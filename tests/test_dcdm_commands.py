"""`sarcoreg train / export-onnx / explain` are registered without importing torch."""
import subprocess
import sys

from sarcoreg.cli import build_parser


def test_model_commands_parse():
    p = build_parser()
    a = p.parse_args(["train", "--preset", "cpu", "--time-budget-min", "5", "--resume", "--out", "x"])
    assert a.preset == "cpu" and a.time_budget_min == 5 and a.resume and callable(a.func)
    assert a.keep_every == 0
    assert p.parse_args(["train", "--keep-every", "500"]).keep_every == 500
    a = p.parse_args(["train", "--finetune", "ck.pt", "--lr", "3e-4", "--dev-samples", "48"])
    assert a.finetune == "ck.pt" and a.lr == 3e-4 and a.dev_samples == 48
    assert p.parse_args(["train"]).finetune is None and p.parse_args(["train"]).lr is None
    a = p.parse_args(["export-onnx", "ck.pt", "--layout", "unrolled"])
    assert a.layout == "unrolled" and a.checkpoint == "ck.pt"
    a = p.parse_args(["explain", "-o", "x.png", "--sample", "3"])
    assert a.sample == 3 and a.out == "x.png"


def test_registering_does_not_import_torch():
    code = ("import sys\nfrom sarcoreg.cli import build_parser\nbuild_parser()\n"
            "import sarcoreg.models.commands\nprint('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-1500:]
    assert out.stdout.strip() == "False"


def test_a_missing_checkpoint_is_a_one_line_input_error(tmp_path, capsys):
    from sarcoreg.cli import main

    missing = tmp_path / "nope.pt"
    assert main(["export-onnx", str(missing)]) == 2
    assert main(["train", "--finetune", str(missing), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("no such checkpoint file" in line for line in err)
    assert err[1].startswith("sarcoreg: error: --finetune ")
    assert not (tmp_path / "out").exists()


def test_a_negative_matching_weight_is_refused(tmp_path, capsys):
    from sarcoreg.cli import main

    assert build_parser().parse_args(["train", "--lambda-match", "3"]).lambda_match == 3.0
    assert main(["train", "--lambda-match", "-1", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--lambda-match -1.0 must be >= 0" in err[0]
    assert not (tmp_path / "out").exists()


def test_a_matching_target_width_that_is_not_positive_is_refused(tmp_path, capsys):
    from sarcoreg.cli import main

    assert build_parser().parse_args(["train", "--match-sigma", "0.5"]).match_sigma == 0.5
    assert main(["train", "--match-sigma", "0", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--match-sigma 0.0 must be > 0" in err[0]
    assert not (tmp_path / "out").exists()


def test_commands_that_need_torch_say_so_where_it_is_missing(tmp_path):
    """Where torch is not installed (Debian 13 and sid without a CPU build): `train` and
    `export-onnx` refuse in one line (exit 2) after checking their own arguments, and
    `set-matching` (ONNX metadata only) still works."""
    from sarcoreg.core.dcdm.runtime import UNROLLED_FILE, available, default_model_dir

    (tmp_path / "ck.pt").write_bytes(b"not read")
    model = tmp_path / UNROLLED_FILE
    have_model = available()
    if have_model:
        import shutil

        shutil.copyfile(default_model_dir() / UNROLLED_FILE, model)
    code = (
        "import importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ImportError('torch is blocked in this test')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from sarcoreg.cli import main\n"
        "d = sys.argv[1]\n"
        "codes = [main(['train', '--out', d + '/run']), main(['export-onnx', d + '/ck.pt']),\n"
        "         main(['train', '--match-sigma', '0', '--out', d + '/run'])]\n"
        "if sys.argv[2] == '1':\n"
        "    codes.append(main(['set-matching', d + '/" + UNROLLED_FILE + "', '{\"guard_px\": 3}']))\n"
        "print(codes, 'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path), "1" if have_model else "0"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    want = [2, 2, 2] + ([0] if have_model else [])
    assert out.stdout.strip().splitlines()[-1] == f"{want} False"
    err = [line for line in out.stderr.splitlines() if line.startswith("sarcoreg: error:")]
    assert len(err) == 3
    assert err[0].startswith("sarcoreg: error: sarcoreg train needs torch, which is not installed")
    assert err[1].startswith("sarcoreg: error: sarcoreg export-onnx needs torch")
    assert "--match-sigma 0.0 must be > 0" in err[2]
    assert not (tmp_path / "run").exists()
