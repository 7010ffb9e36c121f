"""The seams a new variant plugs into: the discriminate hook, per-network configs (version 2, version 1
still loading), the exported discriminator, --init-from, the resume check, declared compatibility, and
PacGAN as a one-file variant."""

import json
import shutil
from pathlib import Path

import pytest
import torch
from torch import nn

from gan_hub import Discriminator, Generator
from gan_hub.config import ConfigError, GeneratorConfig
from gan_hub.game import DOutput, StepContext
from gan_hub.io import CheckpointError
from gan_hub.objectives import get_objective
from gan_hub.techniques import configure
from gan_hub.variants import VARIANTS, AdversarialAlgorithm
from gan_hub.variants.pacgan import PackedDiscriminator
from train.compose import compose
from train.config import TrainConfig, TrainConfigError
from train.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "config_v1"
CTX = StepContext(0, 10)


class Linear(nn.Module):
    """D(x) = <w, x>: its input gradient is w everywhere; its features are x itself."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))
        self.body = nn.Identity()

    def forward(self, x, labels=None):
        return x @ self.w


class Doubled(AdversarialAlgorithm):
    """A variant that changes only how D scores a batch: twice D's logit, plus an extra."""

    def discriminate(self, discriminator, images, labels):
        return DOutput(2 * discriminator(images, labels), {"doubled": True})

    def features(self, discriminator, images, labels):
        return 3 * discriminator.body(images)


# ---- the discriminate hook ------------------------------------------------------------------------
def test_a_variant_overriding_discriminate_gets_the_gradient_penalty_of_its_own_scores():
    setup = configure({"gradient_penalty": {"weight": 1.0}}, get_objective("wasserstein"))
    algorithm = Doubled(setup.objective, setup.techniques)
    d = Linear([0.3, 0.4])  # |w| = 0.5, so |grad of 2 <w, x>| = 1.0 and the penalty is 0; D alone would give 0.25
    g = lambda z, labels=None: z  # noqa: E731
    real, z = torch.randn(6, 2), torch.randn(6, 2)
    _, logs = algorithm.discriminator_loss(g, d, real, None, z, CTX)
    assert logs["d_gradient_penalty"] == pytest.approx(0.0, abs=1e-6)
    d.w.data = torch.tensor([0.6, 0.8])  # |grad| = 2: penalty (2 - 1)^2 = 1
    _, logs = algorithm.discriminator_loss(g, d, real, None, z, CTX)
    assert logs["d_gradient_penalty"] == pytest.approx(1.0, rel=1e-5)


def test_feature_matching_goes_through_the_variants_features():
    setup = configure({"feature_matching": True}, get_objective("non-saturating"))
    algorithm = Doubled(setup.objective, setup.techniques)
    d, g = Linear([1.0, 1.0]), (lambda z, labels=None: z + 1.0)
    real, z = torch.zeros(4, 2), torch.zeros(4, 2)
    loss, _ = algorithm.generator_loss(g, d, z, None, real, CTX)
    assert loss.item() == pytest.approx(2 * 3.0**2)  # features 3x: mean real 0, mean fake 3 in both coordinates


def test_heads_keep_nothing_on_the_module_between_calls():
    run = compose(TrainConfig(variant="acgan", dataset="synthetic", arch_kwargs={"base_channels": 8}))
    from gan_hub.data import load_dataset
    from gan_hub.hub import build_discriminator_network

    d = build_discriminator_network(run.model_config(load_dataset("synthetic", None, train=True).info))
    out = run.algorithm.discriminate(d, torch.randn(3, 1, 16, 16), None)
    assert out.logits.shape == (3,) and out["class_logits"].shape == (3, 4)
    assert not any(
        isinstance(v, torch.Tensor) for m in d.modules() for k, v in vars(m).items() if not k.startswith("_")
    )


# ---- declared compatibility ----------------------------------------------------------------------
@pytest.mark.parametrize("variant", sorted(VARIANTS.names()))
def test_consensus_combines_with_every_variant(variant):
    compose(TrainConfig(variant=variant, dataset="synthetic", techniques={"consensus": True}))


@pytest.mark.parametrize(
    "variant, technique, message",
    [
        ("ebgan", "feature_matching", "feature_matching replaces the generator loss"),
        ("bigan", "gradient_penalty", "scores inputs D did not see"),
        ("infogan", "experience_replay", "shows D fakes of past steps"),
        ("mix-gan", "experience_replay", "shows D fakes of past steps"),
    ],
)
def test_incompatible_techniques_are_refused_in_one_place_with_the_reason(variant, technique, message):
    with pytest.raises(ValueError, match=message):
        compose(TrainConfig(variant=variant, dataset="synthetic", techniques={technique: True}))


@pytest.mark.parametrize("variant", ["unrolled", "ebgan", "bigan"])
def test_consensus_trains_on_variants_it_was_refused_on(tmp_path, variant):
    cfg = TrainConfig(
        variant=variant,
        dataset="synthetic",
        output_dir=str(tmp_path),
        max_steps=2,
        batch_size=8,
        techniques={"consensus": 1.0},
        arch_kwargs={"base_channels": 8},
        eval_samples=0,
        eval_samples_during_training=0,
        variant_options={"unroll_steps": 1} if variant == "unrolled" else {},
    )
    trainer = Trainer(cfg)
    real, labels = next(trainer.batches())
    logs = trainer.train_step(real, labels)
    assert logs["d_consensus"] > 0 and torch.isfinite(torch.tensor(logs["d_loss"]))


# ---- config version 2 and version 1 ---------------------------------------------------------------
@pytest.mark.parametrize("name", ["dcgan-mnist", "cgan-mnist"])
def test_version_1_zoo_configs_still_load_unchanged(tmp_path, name):
    """Copies of the zoo's version-1 config.json (as shipped before version 2) load the zoo's weights."""
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(FIXTURES / f"{name}.json", folder / "config.json")
    shutil.copy(ROOT / "model_zoo" / name / "model.safetensors", folder / "model.safetensors")
    old = Generator.from_pretrained(folder)
    assert json.loads((folder / "config.json").read_text())["format_version"] == 1
    current = Generator.from_pretrained(ROOT / "model_zoo" / name)
    labels = [3] * 4 if old.config.conditional else None
    assert torch.equal(old.generate(4, seed=5, labels=labels), current.generate(4, seed=5, labels=labels))
    assert old.config.generator.arch == "dcgan" and "g_hidden" not in old.config.discriminator.kwargs


def test_version_1_technique_keys_become_wrappers():
    config = GeneratorConfig.from_dict(
        {
            "variant": "improved-gan",
            "arch": "dcgan",
            "format_version": 1,
            "image_size": 16,
            "latent_dim": 20,
            "arch_kwargs": {
                "base_channels": 8,
                "g_norm": "virtual-batch",
                "g_vbn_reference_size": 16,
                "d_spectral_norm": True,
                "d_minibatch": {"num_kernels": 4, "kernel_dim": 3},
            },
        }
    )
    assert config.generator.wrappers == [{"name": "virtual_batch_norm", "reference_size": 16}]
    assert config.discriminator.wrappers == [
        {"name": "minibatch_discrimination", "num_kernels": 4, "kernel_dim": 3},
        {"name": "spectral_norm"},
    ]
    assert config.to_dict()["format_version"] == 2 and "arch_kwargs" not in config.to_dict()


def test_each_network_gets_only_its_own_options():
    config = GeneratorConfig(
        "dcgan", "dcgan", arch_kwargs={"base_channels": 8, "g_hidden": 32, "d_hidden": 16, "d_norm": "none"}
    )
    assert config.generator.kwargs == {"base_channels": 8, "g_hidden": 32}
    assert config.discriminator.kwargs == {"base_channels": 8, "d_hidden": 16, "d_norm": "none"}
    with pytest.raises(ConfigError, match="unknown architecture option 'colour'"):
        GeneratorConfig("dcgan", "dcgan", arch_kwargs={"colour": 1})


@pytest.mark.parametrize("version", [0, 3, 99, "2"])
def test_future_and_unknown_format_versions_are_refused_naming_the_readable_ones(version):
    with pytest.raises(ConfigError, match=r"format_version .* not one this library reads \(\(1, 2\)\)"):
        GeneratorConfig.from_dict({"variant": "dcgan", "format_version": version, "generator": {"arch": "dcgan"}})


def test_an_unknown_variant_is_refused_at_load(tmp_path):
    g = Generator(GeneratorConfig("dcgan", "dcgan", arch_kwargs={"base_channels": 8}))
    g.save_pretrained(tmp_path)
    data = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**data, "variant": "foo"}))
    with pytest.raises(ConfigError, match="names variant 'foo', which this version of gan-hub does not have"):
        Generator.from_pretrained(tmp_path)


# ---- the exported discriminator, --init-from, resume ------------------------------------------------
def tiny(tmp_path: Path, name: str, **options) -> TrainConfig:
    base = dict(
        variant="dcgan",
        dataset="synthetic",
        output_dir=str(tmp_path / name),
        max_steps=2,
        batch_size=8,
        arch_kwargs={"base_channels": 8},
        eval_samples=0,
        eval_samples_during_training=0,
        checkpoint_every=1,
    )
    return TrainConfig(**{**base, **options})


def test_discriminator_round_trip_and_init_from(tmp_path):
    model = Trainer(tiny(tmp_path, "a", techniques={"spectral_norm": True})).train()
    d = Discriminator.from_pretrained(model)
    assert d.config.discriminator.wrappers == [{"name": "spectral_norm"}]
    images = Generator.from_pretrained(model).generate(5, seed=1)
    assert d.score(images).shape == (5,)
    # a new run starts from the exported G and D
    trainer = Trainer(tiny(tmp_path, "b", techniques={"spectral_norm": True}, init_from=str(model)))
    exported = Generator.from_pretrained(model).net.state_dict()
    started = trainer.accelerator.unwrap_model(trainer.G).state_dict()
    assert all(torch.equal(started[k], v) for k, v in exported.items())
    started_d = trainer.accelerator.unwrap_model(trainer.D).state_dict()
    assert all(torch.equal(started_d[k], v) for k, v in d.net.state_dict().items())
    # shapes that differ are named
    with pytest.raises(CheckpointError, match=r"shape|missing key"):
        Trainer(
            tiny(
                tmp_path,
                "c",
                techniques={"spectral_norm": True},
                arch_kwargs={"base_channels": 16},
                init_from=str(model),
            )
        )


def test_resume_refuses_other_settings_and_allows_a_longer_run(tmp_path):
    Trainer(tiny(tmp_path, "run")).train()
    with pytest.raises(TrainConfigError, match=r"lr_g: 0\.0002 -> 0\.001") as err:
        Trainer(tiny(tmp_path, "run", lr_g=1e-3, max_steps=3)).train()
    assert "batch_size" not in str(err.value)
    record = json.loads((tmp_path / "run" / "train_config.json").read_text())
    assert record["resolved"]["lr_g"] == 2e-4  # the refused run did not overwrite the record
    Trainer(tiny(tmp_path, "run", max_steps=3, log_every=1)).train()  # longer, other logging: continues
    assert json.loads((tmp_path / "run" / "model" / "config.json").read_text())["provenance"]["steps"] == 3


def test_an_explicit_zero_stays_zero():
    assert compose(TrainConfig(variant="dcgan", dataset="synthetic", ema_decay=0)).settings["ema_decay"] == 0
    with pytest.raises(TrainConfigError, match=r"lr_g \(--lr-g\) must be a number > 0, got 0"):
        compose(TrainConfig(variant="dcgan", dataset="synthetic", lr_g=0))


# ---- PacGAN --------------------------------------------------------------------------------------
class Spy(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner, self.seen = inner, []

    def forward(self, x, labels=None):
        self.seen.append(tuple(x.shape))
        return self.inner(x, labels)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_pacgan_d_sees_m_packed_samples_and_a_batch_of_n_over_m(m):
    config = compose(
        TrainConfig(
            variant="pacgan", dataset="synthetic", arch_kwargs={"base_channels": 8}, variant_options={"pack": m}
        )
    ).model_config(type("Info", (), {"num_classes": 0, "class_names": [], "image_size": 16, "channels": 1})())
    from gan_hub.hub import build_discriminator_network

    d = build_discriminator_network(config)
    assert isinstance(d, PackedDiscriminator)
    d.inner = Spy(d.inner)
    x = torch.randn(12, 1, 16, 16)
    assert d(x).shape == (12 // m,)
    assert d.inner.seen == [(12 // m, m, 16, 16)]
    packed = torch.cat([x[i * m : (i + 1) * m].reshape(1, m, 16, 16) for i in range(12 // m)])
    assert torch.equal(packed[1, 0], x[m, 0])  # the second pack starts with sample m
    with pytest.raises(ValueError, match=f"multiple of {m}"):
        d(torch.randn(12 + 1, 1, 16, 16)) if 13 % m else d(torch.randn(12 + 2, 1, 16, 16))


def test_pacgan_packs_2d_points():
    config = GeneratorConfig(
        "pacgan", generator=None, arch="mlp", image_size=0, channels=2, latent_dim=2, arch_kwargs={"hidden_dim": 16}
    )
    config.discriminator.wrappers.append({"name": "pack", "m": 4})
    from gan_hub.hub import build_discriminator_network

    d = build_discriminator_network(config)
    d.inner = Spy(d.inner)
    assert d(torch.randn(20, 2)).shape == (5,) and d.inner.seen == [(5, 8)]


def test_pacgan_trains_and_its_exported_discriminator_loads(tmp_path):
    model = Trainer(tiny(tmp_path, "pac", variant="pacgan", variant_options={"pack": 4})).train()
    d = Discriminator.from_pretrained(model)
    assert d.score(Generator.from_pretrained(model).generate(8)).shape == (2,)
    assert json.loads((model / "config.json").read_text())["provenance"]["resolved"]["variant_options"] == {"pack": 4}
    assert (
        "settings that ran: objective `non-saturating`" in (model / "README.md").read_text()
    )  # the card says what ran
    assert "variant options: pack=4" in (model / "README.md").read_text()


def test_pacgan_is_listed_with_its_option(capsys):
    from train.cli import main

    assert main(["--list-variants"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("pacgan"))
    assert "[options: pack]" in line


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda d: d.score([[0]]), TypeError, r"images must be a torch.Tensor \[N, 1, 28, 28\], got list"),
        (
            lambda d: d.score(torch.zeros(2, 1, 16, 16, dtype=torch.uint8), [0, 1]),
            ValueError,
            r"expected images \[N, 1, 28, 28\]",
        ),
        (lambda d: d.score(torch.full((2, 1, 28, 28), float("nan")), [0, 1]), ValueError, "finite floats"),
        (lambda d: d.score(torch.zeros(2, 1, 28, 28, dtype=torch.uint8)), ValueError, "pass one class id or name"),
        (lambda d: d.score(torch.zeros(2, 1, 28, 28, dtype=torch.uint8), "37"), ValueError, "labels"),
        (
            lambda d: d.score(torch.zeros(2, 1, 28, 28, dtype=torch.uint8), [0, 1], batch_size=0),
            ValueError,
            "batch_size",
        ),
    ],
)
def test_the_discriminator_refuses_bad_input_clearly(call, error, message):
    d = Discriminator.from_pretrained(ROOT / "model_zoo" / "cgan-mnist")
    with pytest.raises(error, match=message):
        call(d)
    assert d.score(torch.zeros(2, 1, 28, 28, dtype=torch.uint8), ["3", "4"]).shape == (2,)
