"""python -m train.zoo: which presets are current, re-exporting a folder in the current format, publishing."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from gan_hub import Generator, GeneratorConfig
from train.zoo import Entry, is_current, publish, written_format
from train.zoo_export import export_run

ROOT = Path(__file__).resolve().parents[1]


def tiny_model(folder: Path) -> Path:
    torch.manual_seed(0)
    Generator(
        GeneratorConfig("dcgan", "dcgan", image_size=16, latent_dim=8, arch_kwargs={"base_channels": 4})
    ).save_pretrained(folder)
    return folder


def test_every_registered_variant_has_a_zoo_preset():
    from gan_hub import list_variants

    presets = {p.stem for p in (ROOT / "train" / "presets").glob("*-mnist.yaml")}
    missing = [v for v in list_variants() if f"{v}-mnist" not in presets]
    assert not missing, missing


def test_the_bundled_models_are_current_with_their_presets():
    zoo = [p.parent.name for p in (ROOT / "model_zoo").glob("*-mnist/config.json")]
    assert {"dcgan-mnist", "cgan-mnist"} <= set(zoo)
    for name in zoo:  # each MNIST model is exactly what its preset trains: `python -m train.zoo` skips it
        assert is_current(Entry(name, ROOT / "train" / "presets" / f"{name}.yaml")), name
    other = ROOT / "train" / "presets" / "lsgan-mnist.yaml"
    assert not is_current(Entry("dcgan-mnist", other))  # a zoo folder trained from another preset is not current


def test_a_model_goes_stale_when_its_variant_changes_a_default_it_was_trained_with(tmp_path, monkeypatch):
    import dataclasses

    from gan_hub.variants import VARIANTS

    preset = ROOT / "train" / "presets" / "lsgan-mnist.yaml"
    assert is_current(Entry("lsgan-mnist", preset))
    changed = dataclasses.replace(VARIANTS.get("lsgan"), optimizer="adam-eps-in-sqrt")
    monkeypatch.setitem(VARIANTS._items, "lsgan", changed)
    assert not is_current(Entry("lsgan-mnist", preset))  # the same preset would now train another model
    pinned = tmp_path / "lsgan-mnist.yaml"
    pinned.write_text(preset.read_text() + "optimizer: adam\n")  # spelling out what the model was trained with
    assert is_current(Entry("lsgan-mnist", pinned))


def test_export_writes_the_current_format_with_float16_weights(tmp_path):
    source = tiny_model(tmp_path / "run")
    config = json.loads((source / "config.json").read_text())
    v1 = {k: v for k, v in config.items() if k not in ("generator", "discriminator")}
    v1.update(format_version=1, arch="dcgan", arch_kwargs={"base_channels": 4})
    (source / "config.json").write_text(json.dumps(v1))
    assert written_format(source) == 1
    export_run(source, tmp_path / "zoo" / "x", num_samples=0)
    assert written_format(tmp_path / "zoo" / "x") == 2
    from safetensors import safe_open

    with safe_open(str(tmp_path / "zoo" / "x" / "model.safetensors"), "pt") as f:
        assert {f.get_tensor(k).dtype for k in f.keys() if f.get_tensor(k).is_floating_point()} == {torch.float16}
    a = Generator.from_pretrained(source).round_weights_to(torch.float16).generate(3, seed=1)
    assert torch.equal(a, Generator.from_pretrained(tmp_path / "zoo" / "x").generate(3, seed=1))


def test_publish_uploads_every_zoo_folder_to_the_org(hub_env, tmp_path, capsys):
    from huggingface_hub import HfApi, hf_hub_download

    from train.zoo import main

    zoo = tmp_path / "zoo"
    for name in ("one-mnist", "two-mnist"):
        tiny_model(zoo / name)
    assert publish(zoo, "zoo-org") == ["zoo-org/one-mnist", "zoo-org/two-mnist"]
    loaded = Generator.from_pretrained("zoo-org/two-mnist")
    assert torch.equal(loaded.generate(2, seed=4), Generator.from_pretrained(zoo / "two-mnist").generate(2, seed=4))
    card = Path(hf_hub_download("zoo-org/one-mnist", "README.md")).read_text()
    assert "library_name: gan-hub" in card
    # the command, on bundled models (an MNIST one and a 2-D one), every file of the folder
    real = tmp_path / "real"
    for name in ("cgan-mnist", "gan-ring8"):
        shutil.copytree(ROOT / "model_zoo" / name, real / name)
    assert main(["--publish", "gan-hub-test", "--zoo", str(real), "--only", "cgan-mnist,gan-ring8"]) == 0
    assert "published" in capsys.readouterr().out
    for name in ("cgan-mnist", "gan-ring8"):
        files = set(HfApi().list_repo_files(f"gan-hub-test/{name}"))
        assert {p.name for p in (real / name).iterdir()} <= files, name
        hub, local = Generator.from_pretrained(f"gan-hub-test/{name}"), Generator.from_pretrained(real / name)
        assert torch.equal(hub.generate(3, seed=2), local.generate(3, seed=2))
    shutil.rmtree(zoo)


def test_one_command_trains_exports_and_then_skips_what_is_current(tmp_path, capsys):
    from train.zoo import main

    presets, zoo, runs = tmp_path / "presets", tmp_path / "zoo", tmp_path / "runs"
    presets.mkdir()
    for variant in ("dcgan", "lsgan"):
        (presets / f"{variant}-synthetic.yaml").write_text(
            f"variant: {variant}\ndataset: synthetic\nmax_steps: 3\nbatch_size: 8\narch_kwargs:\n  base_channels: 4\n"
            "eval_samples: 0\neval_samples_during_training: 0\ncheckpoint_every: 3\nsample_every: 3\n"
        )
    argv = ["--presets", str(presets), "--zoo", str(zoo), "--runs-dir", str(runs), "--jobs", "2", "--device", "cpu"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "dcgan-synthetic  exported" in out and "lsgan-synthetic  exported" in out
    assert written_format(zoo / "dcgan-synthetic") == 2
    metrics = json.loads((zoo / "dcgan-synthetic" / "metrics.json").read_text())
    metrics["scores"] = [{"name": "classifier IS@10k", "mean": 9.25}]  # synthetic data has no scorer: as if scored
    (zoo / "dcgan-synthetic" / "metrics.json").write_text(json.dumps(metrics))
    assert main(argv) == 0  # a second run finds both current, and shows their recorded scores
    current = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("dcgan-synthetic  current"))
    assert current.endswith("classifier IS@10k 9.250")
    # a changed preset retrains from scratch; the old run folder is set aside, not resumed with other settings
    (presets / "dcgan-synthetic.yaml").write_text((presets / "dcgan-synthetic.yaml").read_text() + "lr_g: 0.001\n")
    assert main(argv) == 0
    assert (runs / "dcgan-synthetic.old-1").is_dir() and "dcgan-synthetic  exported" in capsys.readouterr().out


def test_each_model_is_exported_as_soon_as_it_has_trained(tmp_path, monkeypatch):
    """A long retrain that is stopped keeps what it finished: the first model is in the zoo before the
    second starts training (one job at a time)."""
    import train.zoo as zoo_cli

    events = []
    monkeypatch.setattr(zoo_cli, "train", lambda entry, *args: events.append(("train", entry.name)) or True)
    monkeypatch.setattr(zoo_cli, "set_aside_if_stale", lambda *args: None)
    entries = [Entry(name, Path(f"{name}.yaml")) for name in ("first", "second")]
    zoo_cli.train_all(entries, tmp_path, None, "cpu", 1, lambda entry: events.append(("export", entry.name)))
    assert events == [("train", "first"), ("export", "first"), ("train", "second"), ("export", "second")]


def test_a_failed_run_is_not_exported(tmp_path, monkeypatch):
    import train.zoo as zoo_cli

    exported = []
    monkeypatch.setattr(zoo_cli, "train", lambda entry, *args: entry.name != "broken")
    monkeypatch.setattr(zoo_cli, "set_aside_if_stale", lambda *args: None)
    entries = [Entry(name, Path(f"{name}.yaml")) for name in ("broken", "fine")]
    zoo_cli.train_all(entries, tmp_path, None, "cpu", 2, lambda entry: exported.append(entry.name))
    assert exported == ["fine"]
    assert entries[0].status.startswith("FAILED") and entries[1].status == "trained"


def test_an_export_that_fails_is_reported_and_the_others_continue(tmp_path, monkeypatch):
    import train.zoo as zoo_cli

    exported = []

    def export(entry):
        if entry.name == "first":
            raise OSError("disk full")
        exported.append(entry.name)

    monkeypatch.setattr(zoo_cli, "train", lambda entry, *args: True)
    monkeypatch.setattr(zoo_cli, "set_aside_if_stale", lambda *args: None)
    entries = [Entry(name, Path(f"{name}.yaml")) for name in ("first", "second")]
    zoo_cli.train_all(entries, tmp_path, None, "cpu", 1, export)
    assert exported == ["second"]
    assert entries[0].status == "EXPORT FAILED (OSError: disk full)" and entries[1].status == "trained"


def test_device_cuda_without_a_gpu_is_refused_with_a_clear_message(tmp_path, monkeypatch, capsys):
    import torch

    import train.zoo as zoo_cli
    from train.zoo import main

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(zoo_cli, "train", lambda *args: pytest.fail("--device cuda without a GPU went on to train"))
    with pytest.raises(SystemExit) as stop:
        main(["--device", "cuda", "--zoo", str(tmp_path), "--runs-dir", str(tmp_path / "runs")])
    assert stop.value.code == 2
    assert "--device cuda: no CUDA GPU is visible here" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()  # nothing started


def test_a_run_cut_short_is_resumed_and_ends_where_an_uncut_run_does(tmp_path):
    """The retrain continues a run that stopped halfway (a killed session) from its checkpoint, and the
    model it exports is exactly the one an uninterrupted run gives."""
    import subprocess
    import sys

    from train.zoo import REPO, main

    presets = tmp_path / "presets"
    presets.mkdir()
    (presets / "dcgan-synthetic.yaml").write_text(
        "variant: dcgan\ndataset: synthetic\nmax_steps: 4\nbatch_size: 8\narch_kwargs:\n  base_channels: 4\n"
        "eval_samples: 0\neval_samples_during_training: 0\ncheckpoint_every: 2\nsample_every: 4\n"
    )
    cut_runs = tmp_path / "cut-runs"
    subprocess.run(  # the first half: stopped at step 2, its checkpoint kept
        [sys.executable, "-m", "train", "--config", str(presets / "dcgan-synthetic.yaml")]
        + ["--output-dir", str(cut_runs / "dcgan-synthetic"), "--stop-at-step", "2"],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    for runs, zoo in ((cut_runs, tmp_path / "zoo-cut"), (tmp_path / "runs", tmp_path / "zoo")):
        argv = ["--presets", str(presets), "--zoo", str(zoo), "--runs-dir", str(runs), "--device", "cpu"]
        assert main(argv) == 0
    assert "at step 2" in (cut_runs / "dcgan-synthetic" / "train.log").read_text()  # resumed, not restarted
    resumed = Generator.from_pretrained(tmp_path / "zoo-cut" / "dcgan-synthetic")
    uncut = Generator.from_pretrained(tmp_path / "zoo" / "dcgan-synthetic")
    assert torch.equal(resumed.generate(4, seed=1), uncut.generate(4, seed=1))


def test_the_2d_models_are_listed_with_the_presets_and_judged_by_their_protocol(tmp_path, capsys):
    from train.zoo import main, two_d_status

    assert main(["--list"]) == 0
    listing = capsys.readouterr().out
    for name in ("gan-ring8", "pacgan-grid25", "unrolled-ring8"):
        assert f"\n{name} " in listing and "modes captured@2,500" in listing.split(f"\n{name} ", 1)[1].split("\n")[0]
        assert listing.split(f"\n{name} ", 1)[1].split()[0] == "current"
    zoo = tmp_path / "zoo"
    shutil.copytree(ROOT / "model_zoo" / "gan-ring8", zoo / "gan-ring8")
    assert two_d_status(zoo)["gan-ring8"] and not two_d_status(zoo)["gan-grid25"]  # absent: to train
    config = json.loads((zoo / "gan-ring8" / "config.json").read_text())
    config["provenance"]["steps"] = 100  # trained to another budget
    (zoo / "gan-ring8" / "config.json").write_text(json.dumps(config))
    assert not two_d_status(zoo)["gan-ring8"]


def test_a_2d_model_is_trained_and_exported_by_its_own_script(tmp_path, monkeypatch):
    import subprocess

    import train.zoo as zoo_cli

    commands = []
    monkeypatch.setattr(
        subprocess, "run", lambda cmd, **kw: commands.append(cmd) or subprocess.CompletedProcess(cmd, 0)
    )
    entry = Entry("gan-ring8", None)
    assert zoo_cli.train(entry, tmp_path / "runs", None, "cpu", tmp_path / "zoo", True)
    assert zoo_cli.train(entry, tmp_path / "runs", None, "cpu", tmp_path / "zoo", False)
    script = str(ROOT / "bench" / "toy_zoo.py")
    assert commands[0][1:] == [
        script,
        "--only",
        "gan-ring8",
        "--runs",
        str(tmp_path / "runs"),
        "--zoo",
        str(tmp_path / "zoo"),
    ]
    assert commands[1][1:] == commands[0][1:] + ["--train-only"]  # --no-export


def test_scale_steps_lengthens_each_preset_in_place_and_retrains_from_it(tmp_path, capsys):
    """The GPU retrain: --scale-steps K multiplies every chosen preset's schedule, says so in its notes (which
    the card quotes), and the models it exports are current with the presets as they now read."""
    from train.zoo import main, preset_notes

    presets, zoo, runs = tmp_path / "presets", tmp_path / "zoo", tmp_path / "runs"
    presets.mkdir()
    preset = presets / "dcgan-synthetic.yaml"
    preset.write_text(
        "# model_zoo/dcgan-synthetic: python -m train --config PRESET\n# A tiny DCGAN.\nvariant: dcgan\n"
        "dataset: synthetic\nmax_steps: 2\nlr_decay_start: 1\nbatch_size: 8\narch_kwargs:\n  base_channels: 4\n"
        "eval_samples: 0\neval_samples_during_training: 0\n"
    )
    argv = ["--presets", str(presets), "--zoo", str(zoo), "--runs-dir", str(runs), "--device", "cpu"]
    assert main(argv) == 0
    assert main([*argv, "--scale-steps", "3"]) == 0
    assert "max_steps: 6\nlr_decay_start: 3\n" in preset.read_text()
    note = (
        "Schedule x3 (python -m train.zoo --scale-steps 3): 6 steps instead of 2, learning rates decaying from step 3."
    )
    assert preset_notes(preset) == f"A tiny DCGAN. {note}"
    assert json.loads((zoo / "dcgan-synthetic" / "config.json").read_text())["provenance"]["steps"] == 6
    assert json.loads((zoo / "dcgan-synthetic" / "metrics.json").read_text())["training"]["recipe"].endswith(note)
    capsys.readouterr()
    assert main(argv) == 0 and "dcgan-synthetic  current" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([*argv, "--scale-steps", "1"])


def test_scaling_a_schedule_scales_phase_lengths_but_not_other_step_options(tmp_path, capsys):
    from train.config import TrainConfig
    from train.zoo import scale_presets

    preset = tmp_path / "progan-mnist.yaml"
    preset.write_text(
        "# model_zoo/progan-mnist\n# Notes.\nvariant: progan\ndataset: mnist\nmax_steps: 2_400  # the CPU budget\n"
        "lr_decay_start: 1800\nvariant_options:\n  fade_steps: 300\n  stable_steps: 200\n  unroll_steps: 5\n"
    )
    scale_presets([preset], 10)
    cfg = TrainConfig.from_yaml(preset)
    assert (cfg.max_steps, cfg.lr_decay_start) == (24000, 18000)
    assert cfg.variant_options == {"fade_steps": 3000, "stable_steps": 2000, "unroll_steps": 5}  # k is not a length
    assert "max_steps: 24000  # the CPU budget\n" in preset.read_text()  # its comment kept
    assert "phases: fade_steps 3,000, stable_steps 2,000." in capsys.readouterr().out
    scaled = preset.read_text()
    scale_presets([preset], 10)  # the same command again (a rerun after an interruption) changes nothing
    assert preset.read_text() == scaled and "schedule kept" in capsys.readouterr().out


def test_scaling_refuses_what_it_cannot_do_faithfully_and_changes_nothing(tmp_path):
    from train.zoo import NOT_SCALED, preset_notes, scale_presets

    fine, scaled, kept = tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "c.yaml"
    fine.write_text("# a\nvariant: dcgan\ndataset: mnist\nmax_steps: 100\n")
    scaled.write_text("# b\n# Schedule x10 (python -m train.zoo --scale-steps 10): 1,000 steps.\nmax_steps: 1000\n")
    kept.write_text(f"# c\n{NOT_SCALED} (the paper's schedule)\nmax_steps: 180000\n")
    before = {p: p.read_text() for p in (fine, scaled, kept)}
    with pytest.raises(SystemExit, match=r"b.yaml was already scaled x10.*no preset was changed"):
        scale_presets([fine, scaled, kept], 3)
    assert {p: p.read_text() for p in before} == before
    scale_presets([fine, kept], 3)
    assert "max_steps: 300" in fine.read_text() and kept.read_text() == before[kept]
    assert preset_notes(kept) == ""  # the marker is an instruction, not a note for the card
    nothing = tmp_path / "d.yaml"
    nothing.write_text("# d\nvariant: dcgan\n")
    with pytest.raises(SystemExit, match="sets no max_steps to scale"):
        scale_presets([nothing], 3)


def test_a_2d_model_to_train_never_reuses_an_old_run_folder(tmp_path, monkeypatch):
    """bench/toy_zoo.py exports whatever finished run it finds; a 2-D model that is not current trains afresh."""
    import train.zoo as zoo_cli

    seen = []
    monkeypatch.setattr(
        zoo_cli, "train", lambda entry, runs, *args: seen.append(sorted(p.name for p in runs.iterdir()))
    )
    (tmp_path / "gan-ring8").mkdir()
    (tmp_path / "gan-ring8" / "results.json").write_text("{}")  # an old protocol's finished run
    zoo_cli.train_all([Entry("gan-ring8", None)], tmp_path, None, "cpu", 1, None)
    assert seen == [["gan-ring8.old-1"]] and (tmp_path / "gan-ring8.old-1" / "results.json").is_file()
