"""Every registered variant trains on synthetic data, in one process and in two, with finite losses and
the same weights on both ranks; each has a card section and a line in --list-variants."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gan_hub.cards import variant_section
from gan_hub.variants import VARIANTS
from tests.conftest import two_process_launcher

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tests" / "train_every_variant.py"
REQUIRED = [
    "lsgan",
    "wgan",
    "wgan-gp",
    "hinge-sn",
    "fgan-kl",
    "fgan-reverse-kl",
    "fgan-pearson",
    "fgan-hellinger",
    "fgan-js",
    "ebgan",
    "began",
    "rsgan",
    "ragan",
    "ralsgan",
    "improved-gan",
]
STEPS = 20


def run(launcher: list[str], out: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = launcher + [str(SCRIPT), str(out), str(STEPS), *VARIANTS.names()]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout[-3000:]}\n{result.stderr[-4000:]}"
    return json.loads(out.read_text())


def test_every_required_variant_is_registered():
    assert set(REQUIRED) <= set(VARIANTS.names())


@pytest.mark.parametrize("processes", [1, 2])
def test_every_variant_trains(tmp_path, processes):
    launcher = [sys.executable]
    if processes == 2:
        launcher = two_process_launcher()
    results = run(launcher, tmp_path / "results.json")
    assert set(results) == set(VARIANTS.names())
    for variant, r in results.items():
        assert r["processes"] == processes and r["steps"] == STEPS, variant
        assert r["finite"], f"{variant}: a loss became NaN or infinite"
        assert r["identical_on_ranks"], f"{variant}: the ranks' weights differ"
        assert {"d_loss", "g_loss"} <= set(r["logged"]), variant
        assert r["discriminator_round_trip"], f"{variant}: the exported D does not rebuild from config.json"
    # the K+1 discriminator's fixed weight-norm scales are buffers, set from data on each process: they must agree
    assert results["semi-supervised"]["identical_d_buffers_on_ranks"]
    # ProGAN's short schedule grew through every level and fade-in to 32x32 (layers not yet in use get zero gradients)
    assert (results["progan"]["last_logs"]["resolution"], results["progan"]["last_logs"]["alpha"]) == (32.0, 1.0)


@pytest.mark.parametrize("variant", sorted(VARIANTS.names()))
def test_every_variant_has_a_card_section_with_its_paper_and_defaults(variant):
    section = variant_section(variant)
    spec = VARIANTS.get(variant)
    assert "Paper:" in section and "Defaults: objective" in section, variant
    assert f"{spec.lr_g:g}" in section and f"{spec.n_critic} D step" in section


def test_technique_switches_on_the_command_line_are_checked(capsys):
    from train.cli import main

    for flag, message in (
        ('{"nope": true}', "unknown technique 'nope'; choose one of: consensus"),
        ('{"instance_noise": {"sd": 1}}', "technique 'instance_noise': unknown option"),
        ("{bad", "not valid JSON"),
    ):
        with pytest.raises(SystemExit):
            main(["--dataset", "synthetic", "--techniques", flag])
        assert message in capsys.readouterr().err


def test_list_techniques_names_every_switch(capsys):
    from gan_hub.techniques import TECHNIQUES
    from train.cli import main

    assert main(["--list-techniques"]) == 0
    printed = capsys.readouterr().out
    for name in TECHNIQUES.names():
        assert name in printed
    assert len(TECHNIQUES.names()) == 11
