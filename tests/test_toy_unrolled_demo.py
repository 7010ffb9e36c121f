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
    simultaneous = demo.main(["--rows", "gan", "--seeds", "0", "--steps", "2", "--update", "simultaneous"])
    assert simultaneous[0]["variant"] == "gan, simultaneous" and simultaneous[0]["update"] == "simultaneous"
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


def test_a_simultaneous_step_takes_both_gradients_at_the_same_weights():
    """The notebook's update: D's step is the one a lone D step would take, and G's (through the unroll of
    D's Adam, from its state before this step) the one a lone G step would take, from the same weights."""
    from gan_hub.variants.base import StepContext

    ctx = StepContext(0, 10)
    real, z = torch.randn(512, 2), torch.randn(512, 256)
    for row in ("gan", "unrolled"):
        both, d_only, g_only = (demo.build_players(row, 0) for _ in range(3))
        for p in (both, d_only, g_only):  # D's Adam with moments, as after some training
            p.opt_d.zero_grad()
            p.algorithm.discriminator_loss(p.generator, p.discriminator, real, None, z, ctx)[0].backward()
            p.opt_d.step()
            p.opt_d.zero_grad(set_to_none=True)
        demo.simultaneous_step(both, real, z, ctx)
        d_only.algorithm.discriminator_loss(d_only.generator, d_only.discriminator, real, None, z, ctx)[0].backward()
        d_only.opt_d.step()
        g_only.discriminator.requires_grad_(False)
        g_only.algorithm.generator_loss(g_only.generator, g_only.discriminator, z, None, real, ctx)[0].backward()
        g_only.opt_g.step()
        for a, b in zip(both.discriminator.parameters(), d_only.discriminator.parameters()):
            torch.testing.assert_close(a, b)
        for a, b in zip(both.generator.parameters(), g_only.generator.parameters()):
            torch.testing.assert_close(a, b)
        moved = [not torch.equal(a, b) for a, b in zip(both.generator.parameters(), d_only.generator.parameters())]
        assert any(moved)  # G did step
