"""Average the weights of several checkpoints of one training run (a uniform "model soup").

    python scripts/average_checkpoints.py build/ft_local/step_{30000..46000..2000}.pt -o build/soup.pt

Checkpoints taken along one run's trajectory (``sarcoreg train --keep-every``) lie in one basin;
their mean often generalises better than any one of them. The output is an ordinary
checkpoint (no optimiser state, so not resumable): the last input's record, with the mean of
every floating-point tensor, and ``averaged_from`` listing the steps. Rank it on dev like any
other (``scripts/rank_checkpoints.sh``). Needs torch.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def average(paths):
    import torch

    cks = [torch.load(p, map_location="cpu", weights_only=False) for p in paths]
    first = cks[0]
    for p, ck in zip(paths, cks):
        if ck.get("config") != first.get("config"):
            sys.exit(f"{p}: another network configuration than {paths[0]}: average checkpoints of one run only")
        if ck["model"].keys() != first["model"].keys():
            sys.exit(f"{p}: other parameters than {paths[0]}: average checkpoints of one run only")
    out = dict(cks[-1])
    model = {}
    for k, v in first["model"].items():
        if torch.is_floating_point(v):
            model[k] = torch.stack([ck["model"][k].float() for ck in cks]).mean(0).to(v.dtype)
        else:
            model[k] = cks[-1]["model"][k]
    out["model"] = model
    out["optim"] = None
    out["averaged_from"] = [int(ck.get("step", -1)) for ck in cks]
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoints", nargs="+")
    ap.add_argument("-o", "--out", required=True)
    a = ap.parse_args(argv)
    if len(a.checkpoints) < 2:
        ap.error("give at least two checkpoints")
    missing = [p for p in a.checkpoints if not Path(p).is_file()]
    if missing:
        ap.error(f"no such checkpoint: {', '.join(missing)}")
    import torch

    ck = average(a.checkpoints)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    torch.save(ck, tmp)
    os.replace(tmp, out)
    print(f"wrote {out}: mean of steps {ck['averaged_from']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
