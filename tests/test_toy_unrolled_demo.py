"""bench/toy_unrolled_demo.py: Unrolled GAN in its authors' demo setting (networks, optimiser, game), and
its results file and table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import toy_unrolled_demo as demo  # noqa: E402

from gan_hub.archs.tanh_mlp import TanhMLPDiscriminator, TanhMLPGenerator  # noqa: E402


def test_the_demo_run_is_the_notebooks_setting():
    resolved = demo.compose_demo(5)
    s = resolved.settings
    assert (s["arch"], s["objective"], s["latent_dim"], s["batch_size"]) == ("tanh-mlp", "minimax", 256, 512)
    assert (s["lr_g"], s["lr_d"], s["betas"][0]) == (1e-3, 1e-4, 0.5)
    assert s["variant_options"]["unroll_steps"] == 5 and s["variant_options"]["unroll_optimizer"] == "adam"
    assert resolved.setup.objective.zero_sum  # G minimises -L_D at the unrolled D, as the notebook
    assert demo.compose_demo(0).settings["variant_options"]["unroll_steps"] == 0  # the plain GAN row

    g, d = TanhMLPGenerator(256, 2, 0), TanhMLPDiscriminator(2, 0)
    widths = [m.weight.shape for m in g.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [(128, 256), (128, 128), (2, 128)]
    assert sum(isinstance(m, torch.nn.Tanh) for m in d.modules()) == 2
    first = g.net[0].weight  # orthogonal rows of norm 1.4
    torch.testing.assert_close(first @ first.T, 1.96 * torch.eye(128), atol=1e-4, rtol=0)
    assert all(m.bias.abs().sum() == 0 for m in d.modules() if isinstance(m, torch.nn.Linear))


def test_a_short_run_scores_saves_and_tables(tmp_path, capsys):
    out = tmp_path / "demo.json"
    results = demo.main(["--seeds", "0", "--steps", "4", "--eval-every", "2", "--json", str(out)])
    assert [r["variant"] for r in results] == ["gan", "unrolled"]
    for r in results:
        assert r["steps"] == 4 and [p[0] for p in r["curve"]] == [2, 4] and 0 <= r["modes_captured"] <= 8
        assert len(r["points"]) == 500
    saved = json.loads(out.read_text())["results"]
    assert [r["unroll_steps"] for r in saved] == [0, 5]
    capsys.readouterr()
    demo.main(["--from-json", str(out)])
    table = capsys.readouterr().out
    assert "| `gan` | 0 | 1 | 4 |" in table and "| `unrolled` | 5 | 1 | 4 |" in table and "7.6 modes" in table
