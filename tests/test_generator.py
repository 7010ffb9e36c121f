"""The Python API a user relies on: seeded sampling, interpolation, class grids, save/load round trips, strict
loading."""

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from gan_hub import Generator, GeneratorConfig, list_variants
from gan_hub.config import ConfigError
from gan_hub.hub import CheckpointError
from gan_hub.sampling import latent_for_seed, slerp


def make(conditional: bool, arch: str = "dcgan", seed: int = 0) -> Generator:
    torch.manual_seed(seed)
    config = GeneratorConfig(
        variant="cgan" if conditional else "dcgan",
        arch=arch,
        num_classes=10 if conditional else 0,
        dataset="mnist",
        arch_kwargs={"base_channels": 8} if arch == "dcgan" else {"hidden_dim": 32},
    )
    return Generator(config)


def test_list_variants_has_the_first_three():
    assert {"gan", "dcgan", "cgan"} <= set(list_variants())


@pytest.mark.parametrize("arch", ["dcgan", "mlp"])
def test_generate_is_uint8_and_deterministic_per_seed(arch):
    g = make(False, arch)
    a, b, c = g.generate(16, seed=3), g.generate(16, seed=3), g.generate(16, seed=4)
    assert a.dtype == torch.uint8 and a.shape == (16, 1, 28, 28)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert a.float().std() > 0  # not a constant image


def test_generate_does_not_depend_on_batch_size():
    g = make(False)
    assert torch.equal(g.generate(10, seed=1, batch_size=3), g.generate(10, seed=1))


def test_conditional_labels_by_index_and_name_and_errors():
    g = make(True)
    by_index = g.generate(4, seed=0, labels=[3, 3, 3, 3])
    assert torch.equal(by_index, g.generate(4, seed=0, labels=["3"] * 4))
    assert not torch.equal(by_index, g.generate(4, seed=0, labels=[5] * 4))
    with pytest.raises(ValueError, match=r"labels\[0\] must be an integer from 0 to 9.*got 10"):
        g.generate(2, labels=[10, 0])
    with pytest.raises(ValueError, match="2 labels for 3 samples"):
        g.generate(3, labels=[1, 2])
    with pytest.raises(ValueError, match="not class-conditional"):
        make(False).generate(2, labels=[1, 1])


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_interpolation_ends_at_the_two_seeds(method):
    g = make(False)
    frames = g.interpolate(seed_a=5, seed_b=9, steps=6, method=method)
    assert frames.shape == (6, 1, 28, 28)
    z = torch.stack([latent_for_seed(5, 100), latent_for_seed(9, 100)])
    ends = g.generate_from_latents(z)
    assert torch.equal(frames[0], ends[0]) and torch.equal(frames[-1], ends[1])


def test_slerp_keeps_the_norm_of_equal_norm_vectors():
    a = torch.randn(100)
    b = torch.randn(100)
    b = b / b.norm() * a.norm()
    path = slerp(a, b, torch.linspace(0, 1, 7))
    assert torch.allclose(path.norm(dim=1), a.norm().expand(7), rtol=1e-5)


def test_interpolation_between_classes():
    g = make(True)
    frames = g.interpolate(0, 0, steps=5, label_a=1, label_b=7)
    assert torch.equal(frames[0], g.class_grid([0], classes=[1])[0])
    assert torch.equal(frames[-1], g.class_grid([0], classes=[7])[0])


def test_class_grid_rows_are_classes_columns_are_seeds():
    g = make(True)
    grid = g.class_grid(seeds=[0, 1, 2])
    assert grid.shape == (30, 1, 28, 28)
    assert torch.equal(grid[3 * 4 + 1], g.class_grid([1], classes=[4])[0])
    with pytest.raises(ValueError, match="not class-conditional"):
        make(False).class_grid([0])


@pytest.mark.parametrize("conditional", [False, True])
def test_save_then_load_gives_identical_outputs(tmp_path, conditional):
    g = make(conditional)
    g.metrics = {
        "scores": [
            {
                "metric": "inception_score",
                "name": "classifier IS@100",
                "mean": 5.0,
                "std": 0.1,
                "scorer": "mnist-classifier",
                "num_samples": 100,
                "splits": 10,
                "seed": 0,
            }
        ]
    }
    g.save_pretrained(tmp_path)
    assert {"config.json", "model.safetensors", "README.md", "samples.png", "metrics.json"} <= {
        p.name for p in tmp_path.iterdir()
    }
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging leftovers
    loaded = Generator.from_pretrained(tmp_path)
    assert loaded.config == g.config
    assert loaded.metrics == g.metrics
    assert torch.equal(loaded.generate(8, seed=11), g.generate(8, seed=11))
    card = (tmp_path / "README.md").read_text()
    assert "library_name: gan-hub" in card and "pipeline_tag: unconditional-image-generation" in card
    assert ("class-conditional" in card) == conditional
    assert "classifier IS@100" in card


def test_missing_folder_and_missing_config_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        Generator.from_pretrained(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no config.json"):
        Generator.from_pretrained(tmp_path)


def test_missing_and_unexpected_weights_are_named(tmp_path):
    make(False).save_pretrained(tmp_path)
    weights = load_file(tmp_path / "model.safetensors")
    dropped = sorted(weights)[0]
    del weights[dropped]
    weights["extra.weight"] = torch.zeros(1)
    save_file(weights, tmp_path / "model.safetensors")
    with pytest.raises(CheckpointError) as err:
        Generator.from_pretrained(tmp_path)
    assert dropped in str(err.value) and "extra.weight" in str(err.value)


def test_mismatched_architecture_is_an_error(tmp_path):
    make(False).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["generator"]["kwargs"] = {"base_channels": 16}
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="has shape .* the architecture expects"):
        Generator.from_pretrained(tmp_path)


def test_corrupt_weights_and_unknown_config_keys(tmp_path):
    make(False).save_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        Generator.from_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["mystery"] = 1
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="mystery"):
        Generator.from_pretrained(tmp_path)


def test_unknown_architecture_in_config(tmp_path):
    make(False).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["generator"]["arch"] = "transformer"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="config.json: unknown generator architecture .transformer."):
        Generator.from_pretrained(tmp_path)


def test_half_precision_save_loads_to_identical_outputs(tmp_path):
    from gan_hub import Generator, GeneratorConfig

    g = Generator(
        GeneratorConfig(variant="dcgan", arch="dcgan", latent_dim=8, image_size=16, arch_kwargs={"base_channels": 8})
    )
    before = g.generate(4, seed=3)
    g.save_pretrained(tmp_path / "half", weights_dtype=torch.float16)
    stored = load_file(str(tmp_path / "half" / "model.safetensors"))
    assert all(t.dtype == torch.float16 for t in stored.values() if t.is_floating_point())
    loaded = Generator.from_pretrained(tmp_path / "half")
    assert torch.equal(loaded.generate(4, seed=3), g.generate(4, seed=3))  # g was rounded in place before saving
    assert (loaded.generate(4, seed=3).int() - before.int()).abs().max() <= 2  # rounding moves pixels by a level or two


# ---- truncation trick ---------------------------------------------------------------------------
def test_truncated_latents_stay_inside_and_keep_the_entries_already_inside():
    from gan_hub.sampling import latents

    plain, cut = latents(200, 16, seed=5), latents(200, 16, seed=5, truncation=0.7)
    assert cut.abs().max() <= 0.7
    inside = plain.abs() <= 0.7
    assert torch.equal(cut[inside], plain[inside]) and (~inside).sum() > 100  # only the outliers were redrawn
    assert torch.equal(cut, latents(200, 16, seed=5, truncation=0.7))  # still a pure function of the seed
    # a normal truncated to [-t, t] has variance 1 - 2 t phi(t) / (2 Phi(t) - 1); at t = 0.7 that is 0.1519
    assert abs(latents(20000, 8, seed=1, truncation=0.7).var().item() - 0.1519) < 0.006
    for too_small in (0.0, 1e-7, 0.019):  # the redraws would take ~1/t times as long: refused below the floor
        with pytest.raises(ValueError, match="truncation must be a finite number >= 0.02"):
            latents(2, 4, seed=0, truncation=too_small)
    at_floor = latents(64, 100, seed=0, truncation=0.02)
    assert at_floor.abs().max() <= 0.02


def test_generate_with_truncation_and_the_variants_that_refuse_it():
    g = make(False)
    assert g.supports_truncation
    wide, tight = g.generate(8, seed=2, truncation=10.0), g.generate(8, seed=2, truncation=0.5)
    assert torch.equal(wide, g.generate(8, seed=2))  # no |z| reaches 10: nothing redrawn
    assert not torch.equal(tight, wide) and torch.equal(tight, g.generate(8, seed=2, truncation=0.5))
    structured = [
        GeneratorConfig(
            variant="mix-gan", arch="mix-dcgan", dataset="mnist", arch_kwargs={"base_channels": 4, "components": 2}
        ),
        GeneratorConfig(
            variant="infogan",
            arch="dcgan",
            latent_dim=20,
            image_size=16,
            arch_kwargs={"base_channels": 4, "info_categorical": 3, "info_continuous": 1},
        ),
    ]
    for config in structured:
        other = Generator(config)
        assert not other.supports_truncation
        with pytest.raises(ValueError, match="do not support truncation"):
            other.generate(2, seed=0, truncation=0.5)
