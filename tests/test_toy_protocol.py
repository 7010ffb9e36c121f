"""The 2-D protocol (bench/toy_protocol.py): its training state (bench/toy_state.py: a group stopped
part-way and started again with the same arguments ends exactly where one uninterrupted run ends:
weights, scores, curves; so the published 400,000-step schedule can span several sessions; a state of
another run is refused by name), MIX+GAN on mixtures of PacGAN's point networks, and PacGAN's packed
batch as the authors' code feeds it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import toy_modes  # noqa: E402
import toy_protocol  # noqa: E402

SMALL = {"hidden_dim": 16}  # G 4 x 16; the maxout D keeps its published 200 x 5 (a few ms a step)


class StopAtEvaluation:
    """A log callback that stops training (as Ctrl-C or `kill` would) at its n-th evaluation line."""

    def __init__(self, n: int):
        self.n, self.seen = n, 0

    def __call__(self, message, **_):
        if " step " in message and "captured" in message:
            self.seen += 1
            if self.seen == self.n:
                raise KeyboardInterrupt


def train(tmp, run="gan", seeds=(0, 1), steps=12, log=lambda *a, **k: None, state=True, checkpoints=None):
    return toy_protocol.train_group(
        run,
        "ring8-unit",
        list(seeds),
        steps,
        eval_every=4,
        checkpoint_dir=checkpoints,
        log=log,
        arch_kwargs=SMALL,
        state_dir=tmp / "state" if state else None,
    )


def comparable(results):
    return [{k: v for k, v in r.items() if k not in ("seconds", "interrupted")} for r in results]


@pytest.mark.parametrize("run", ["gan", "gan+instance_noise"])
def test_a_stopped_group_continues_exactly(tmp_path, run):
    whole = train(tmp_path / "whole", run, state=False, checkpoints=tmp_path / "whole-g")
    stopped = train(tmp_path / "parts", run, log=StopAtEvaluation(2))  # stopped inside its 2nd evaluation
    assert stopped[0]["interrupted"] and stopped[0]["steps"] == 8
    assert len(list((tmp_path / "parts" / "state").iterdir())) == 1
    resumed_lines = []
    continued = train(tmp_path / "parts", run, log=lambda m, **_: resumed_lines.append(m), checkpoints=tmp_path / "g")
    assert any("resumed at step 8" in line for line in resumed_lines)
    assert comparable(continued) == comparable(whole)
    assert [c[0] for c in continued[0]["curve"]] == [4, 8, 12]
    for seed in (0, 1):
        name = f"{run}-ring8-unit-seed{seed}.safetensors"
        a, b = load_file(tmp_path / "whole-g" / name), load_file(tmp_path / "g" / name)
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=0, atol=0)


def test_a_finished_group_is_not_trained_again(tmp_path):
    first = train(tmp_path, steps=8)
    again_lines = []
    again = train(tmp_path, steps=8, log=lambda m, **_: again_lines.append(m))
    assert comparable(again) == comparable(first)
    assert any("resumed at step 8" in line for line in again_lines)
    assert not any("captured" in line for line in again_lines)  # no training step, no evaluation


def test_another_runs_state_is_refused_by_name(tmp_path):
    train(tmp_path, steps=4)
    path = toy_protocol.state_path(tmp_path / "state", "gan", "ring8-unit", [0, 1])
    assert path.is_file()
    with pytest.raises(ValueError, match="another run's state") as err:
        train(tmp_path, steps=8)  # the same group, a different schedule: its annealing would differ
    assert str(path) in str(err.value) and "--state-dir" in str(err.value)


def test_an_unreadable_state_is_named(tmp_path):
    path = toy_protocol.state_path(tmp_path / "state", "gan", "ring8-unit", [0, 1])
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a readable training state") as err:
        train(tmp_path, steps=4)
    assert str(path) in str(err.value) and "move it away" in str(err.value)


def test_the_bench_command_resumes(tmp_path, capsys):
    args = [
        "--preset", "pacgan", "--variants", "gan", "--datasets", "ring", "--seeds", "0-1", "--steps", "6",
        "--eval-every", "3", "--state-dir", str(tmp_path / "state"), "--json", str(tmp_path / "r.json"),
    ]  # fmt: skip
    first = toy_modes.main(args)
    again = toy_modes.main(args)
    assert comparable(again) == comparable(first)
    assert "resumed at step 6" in capsys.readouterr().out


def test_mix_gan_runs_in_the_protocol_on_mixtures_of_point_networks(tmp_path):
    resolved = toy_protocol.compose_run("mix-gan", "ring8-unit", [0])
    assert resolved.settings["arch"] == "mix-pacgan-mlp" and resolved.settings["arch_kwargs"] == {}
    assert not toy_protocol.separable("mix-gan")  # one set of mixture weights per network
    with pytest.raises(ValueError, match="one at a time"):
        toy_protocol.train_group("mix-gan", "ring8-unit", [0, 1], 2)
    first = train(tmp_path, "mix-gan", seeds=(0,), steps=8, log=StopAtEvaluation(1))
    again = train(tmp_path, "mix-gan", seeds=(0,), steps=8)  # resumes the mixture weights too
    whole = train(tmp_path / "whole", "mix-gan", seeds=(0,), steps=8, state=False)
    assert first[0]["steps"] == 4 and comparable(again) == comparable(whole)
    assert len(again[0]["points"]) == 1000 and len(again[0]["points"][0]) == 2


@pytest.mark.parametrize("run, m", [("gan", 1), ("pacgan", 2), ("pacgan3", 3), ("pacgan4", 4)])
def test_pacgan_rows_give_d_100_packed_rows_per_seed_as_the_authors_code(monkeypatch, run, m):
    assert toy_protocol.samples_per_row(run) == m
    assert toy_protocol.compose_run(run, "grid25", [0, 1]).settings["batch_size"] == 100 * m
    seen = []
    step = toy_protocol.alternating_step

    def spy(players, real, *args, **kwargs):
        seen.append((len(real), players.discriminator(real).numel()))
        return step(players, real, *args, **kwargs)

    monkeypatch.setattr(toy_protocol, "alternating_step", spy)
    toy_protocol.train_group(run, "grid25", [0, 1], 2, arch_kwargs=SMALL)
    assert seen == [(2 * 100 * m, 2 * 100)] * 2  # two seeds: 100 m samples each, judged in 100 packs


def test_the_toy_zoo_refuses_to_export_a_pacgan_trained_at_the_old_half_batch(tmp_path, capsys):
    import toy_zoo

    folder = tmp_path / "pacgan-ring8"
    folder.mkdir()
    record = {"steps": toy_zoo.MODELS["pacgan-ring8"][2], "finite": True}  # no batch_size: trained before the fix
    (folder / "results.json").write_text(json.dumps(record))
    with pytest.raises(SystemExit, match="trained at batch 100, the protocol now trains pacgan2 at 200"):
        toy_zoo.export("pacgan-ring8", tmp_path, tmp_path / "zoo")
    assert not (tmp_path / "zoo").exists()


def test_every_technique_row_resolves_in_the_protocol_and_trains(tmp_path):
    """`--variants techniques`: plain GAN and each of the seeds' techniques, two steps each on the real
    protocol networks (G narrowed), one seed at a time where the technique needs it."""
    rows = toy_modes.TECHNIQUE_ROWS
    assert rows[0] == "gan" and {"unrolled", "mix-gan", "pacgan2", "pacgan3", "pacgan4"} <= set(rows)
    assert {"gan+feature_matching", "gan+virtual_batch_norm", "gan+label_smoothing"} <= set(rows)
    for run in rows:
        resolved = toy_protocol.compose_run(run, "ring8-unit", [0])
        variant, switches, _ = toy_protocol.parse_run(run)
        assert resolved.settings["variant"] == variant and set(switches) <= set(resolved.settings["techniques"])
        seeds = [0, 1] if toy_protocol.separable(run) else [0]
        results = toy_protocol.train_group(run, "ring8-unit", seeds, 2, arch_kwargs=SMALL)
        assert [r["steps"] for r in results] == [2] * len(seeds) and all(r["finite"] for r in results), run


def test_the_curves_figure_draws_modes_and_high_quality_share_per_dataset(tmp_path):
    import toy_figures
    from PIL import Image

    def result(variant, dataset, seed, points):
        return {"variant": variant, "dataset": dataset, "seed": seed, "curve": points}

    results = [
        result(v, d, s, [[1000, 3 + s, 0, 0.1 * (s + 1), 0.5], [2000, 6, 1, 0.5, 0.2]])
        for v in ("gan", "pacgan2")
        for d in ("ring8-unit", "grid25")
        for s in (0, 1)
    ]
    path = tmp_path / "curves.png"
    toy_figures.mode_curves(results, path)
    width, height = Image.open(path).size
    assert len(toy_figures.CURVE_ROWS) == 2 and (width, height) == (900, 612)  # 2 datasets x (modes, quality)


def test_the_samples_grid_puts_several_variants_in_a_row(tmp_path):
    import toy_figures
    from PIL import Image

    variants = ["gan", "wgan", "began", "bigan", "infogan"]
    results = [
        {"variant": v, "dataset": d, "seed": 0, "modes_captured": 3, "num_modes": 8, "points": [[0.0, 1.0]] * 4}
        for v in variants
        for d in ("ring8-unit", "grid25")
    ]
    tall, wide = tmp_path / "tall.png", tmp_path / "wide.png"
    toy_figures.samples_grid(results, tall)
    toy_figures.samples_grid(results, wide, per_row=2)
    # one variant a row: 5 rows x 2 panels; two a row: 3 rows x 4 panels (the last row half empty)
    assert Image.open(tall).size == (round(2.6 * 2 * 90), round(2.5 * 5 * 90))
    assert Image.open(wide).size == (round(2.6 * 4 * 90), round(2.5 * 3 * 90))


def test_every_unconditional_variant_trains_in_the_protocol():
    """`--preset pacgan --variants all`: every registered unconditional variant but the two with no form for
    points runs on PacGAN's networks, in the shape its algorithm needs (autoencoder D, encoder and joint D,
    InfoGAN's code slots), two steps each on ring and grid with finite losses and scores."""
    from gan_hub.variants import VARIANTS, get_variant

    unconditional = {n for n in VARIANTS.names() if not get_variant(n).conditional}
    rows = toy_protocol.protocol_variants()
    assert set(toy_protocol.LEFT_OUT) == {"progan", "semi-supervised"}
    assert set(rows) == unconditional - set(toy_protocol.LEFT_OUT)
    assert {"began", "ebgan", "bigan", "infogan", "mix-gan"} <= set(rows)
    assert toy_modes.parse_args(["--preset", "pacgan"]).variants == "all"
    for variant, why in toy_protocol.LEFT_OUT.items():
        with pytest.raises(ValueError, match=f"{variant} has no networks for the 2-D protocol"):
            toy_protocol.compose_run(variant, "ring8-unit", [0])
    for run in rows:
        for dataset in ("ring8-unit", "grid25"):
            results = toy_protocol.train_group(run, dataset, [0], 2, arch_kwargs=SMALL, log=lambda *a, **k: None)
            assert results[0]["steps"] == 2 and results[0]["finite"], (run, dataset)
    # InfoGAN: 2-D noise plus a categorical code with one category per mode; its Q head is shared, so one seed
    assert toy_protocol.latent_width("infogan", "ring8-unit") == 2 + 8
    assert toy_protocol.latent_width("infogan", "grid25") == 2 + 25
    assert toy_protocol.latent_width("gan", "grid25") == 2
    assert not toy_protocol.separable("infogan") and not toy_protocol.separable("bigan")
    assert not toy_protocol.separable("began") and toy_protocol.separable("wgan-gp")


def test_point_networks_of_the_autoencoder_and_bigan_variants():
    from gan_hub.archs.point_variants import (
        PointAutoencoderDiscriminator,
        PointBiGANGenerator,
        PointJointDiscriminator,
    )

    players = toy_protocol._networks("began", "ring8-unit", [0])
    autoencoder = players.discriminator
    assert isinstance(autoencoder, PointAutoencoderDiscriminator)
    widths = [m.out_features for m in autoencoder.encoder if isinstance(m, torch.nn.Linear)]
    assert widths == [200, 200, 200, 50]  # PacGAN's D: 3 x 200, then the code
    x = torch.randn(5, 2)
    assert autoencoder(x).shape == (5, 2)

    players = toy_protocol._networks("bigan", "grid25", [0])
    g, d = players.generator, players.discriminator
    assert isinstance(g, PointBiGANGenerator) and isinstance(d, PointJointDiscriminator)
    points, codes = g(torch.randn(5, 2), real=x)
    assert points.shape == (5, 2) and codes.shape == (5, 2) and torch.equal(g.encode(x), codes)
    assert d(x, None, z=codes).shape == (5,) and d.latent_dim == 2
    # the joint D is PacGAN's maxout D on [x, z], initialised N(0, 0.02^2) like every protocol network
    first = d.pair.body[0].linear.weight
    assert first.shape == (200 * 5, 4) and abs(first.std().item() - 0.02) < 0.005
    with pytest.raises(ValueError, match="pairs"):
        d(x)
    with pytest.raises(ValueError, match="already reads latents of width 2"):
        d.attach_latent(3)
