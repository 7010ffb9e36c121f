"""Energy-based variants (EBGAN, BEGAN): losses on hand-made energies, the autoencoder discriminators,
k_t's control and checkpointing, and short runs with the real trainer (one and two processes)."""

import math
import os
import subprocess
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from gan_hub import Generator
from gan_hub.archs.autoencoder import ConvAutoencoderDiscriminator, MLPAutoencoderDiscriminator
from gan_hub.config import GeneratorConfig
from gan_hub.game import REPLACES_GENERATOR_LOSS
from gan_hub.hub import build_discriminator_network, build_generator_network
from gan_hub.variants import get_variant
from gan_hub.variants.base import StepContext, Technique
from gan_hub.variants.energy import (
    BEGAN,
    EBGAN,
    began_convergence,
    began_k_update,
    ebgan_discriminator_loss,
    pulling_away_term,
)
from tests.conftest import two_process_launcher

ROOT = Path(__file__).resolve().parents[1]
CTX = StepContext(step=0, max_steps=10)


# ---- stubs with known energies ------------------------------------------------------------------------
class ZeroReconstruction(nn.Module):
    """Reconstructs every image as zeros, so the energy of a constant image c is c^2 (MSE) or |c| (L1);
    its code is the flattened image."""

    def forward(self, x, labels=None, return_code=False):
        reconstruction = torch.zeros_like(x)
        return (reconstruction, x.flatten(1)) if return_code else reconstruction


class ConstantGenerator(nn.Module):
    """Image i of the batch is filled with values[i] (z only sets the batch size)."""

    def __init__(self, values):
        super().__init__()
        self.values = torch.tensor(values, dtype=torch.float32)

    def forward(self, z, labels=None):
        return self.values[: len(z)].view(-1, 1, 1, 1).expand(-1, 1, 4, 4).clone()


def constant_images(values):
    return torch.tensor(values, dtype=torch.float32).view(-1, 1, 1, 1).expand(-1, 1, 4, 4).clone()


# ---- EBGAN --------------------------------------------------------------------------------------------
def test_ebgan_discriminator_loss_on_hand_made_energies():
    real = torch.tensor([0.5, 1.5])
    fake = torch.tensor([3.0, 12.0])  # below the margin (pushed up by 10 - 3 = 7) and above it (no push)
    assert ebgan_discriminator_loss(real, fake, margin=10.0).item() == pytest.approx((0.5 + 1.5) / 2 + (7 + 0) / 2)
    assert ebgan_discriminator_loss(real, fake, margin=1.0).item() == pytest.approx(1.0)  # both fakes above m


def test_ebgan_algorithm_uses_mean_squared_reconstruction_error_and_the_margin():
    algo = EBGAN(None, margin=10.0)
    real = constant_images([0.5, 1.0])  # energies 0.25 and 1
    generator = ConstantGenerator([2.0, 4.0])  # energies 4 (below m: 10 - 4 = 6) and 16 (above m: 0)
    loss, logs = algo.discriminator_loss(generator, ZeroReconstruction(), real, None, torch.zeros(2, 3), CTX)
    assert loss.item() == pytest.approx((0.25 + 1.0) / 2 + (6.0 + 0.0) / 2)
    assert logs["d_loss"] == pytest.approx(loss.item())
    assert logs["d_real"] == pytest.approx(0.625) and logs["d_fake"] == pytest.approx(10.0)


def test_pulling_away_term():
    orthogonal = torch.diag(torch.tensor([1.0, 2.0, 0.5, 3.0]))  # lengths do not matter, only directions
    assert pulling_away_term(orthogonal).item() == pytest.approx(0.0, abs=1e-7)
    identical = torch.tensor([[1.0, 2.0, -1.0]]).repeat(5, 1)
    assert pulling_away_term(identical).item() == pytest.approx(1.0)
    assert pulling_away_term(torch.tensor([[1.0, 0.0], [-3.0, 0.0]])).item() == pytest.approx(1.0)  # antiparallel
    assert pulling_away_term(torch.tensor([[1.0, 0.0], [1.0, 1.0]])).item() == pytest.approx(0.5)  # 45 degrees
    assert pulling_away_term(identical[:1]).item() == 0.0  # a batch of one has no pairs
    assert pulling_away_term(torch.ones(4, 2, 3, 3)).item() == pytest.approx(1.0)  # codes are flattened


def test_ebgan_generator_loss_adds_the_weighted_pulling_away_term():
    algo = EBGAN(None, pt_weight=0.1)
    generator = ConstantGenerator([2.0, 2.0, 2.0])  # identical fakes: energy 4 each, PT = 1
    loss, logs = algo.generator_loss(generator, ZeroReconstruction(), torch.zeros(3, 3), None, None, CTX)
    assert loss.item() == pytest.approx(4.0 + 0.1)
    assert (
        logs["g_loss"] == pytest.approx(4.1)
        and logs["g_pt"] == pytest.approx(0.1)
        and logs["g_energy"] == pytest.approx(4.0)
    )


# ---- BEGAN --------------------------------------------------------------------------------------------
def test_began_k_update_and_its_clip():
    assert began_k_update(0.5, 1.0, 0.3, gamma=0.5, lambda_k=0.001) == pytest.approx(0.5 + 0.001 * (0.5 - 0.3))
    assert began_k_update(0.5, 1.0, 0.8, gamma=0.5, lambda_k=0.001) == pytest.approx(0.5 - 0.001 * 0.3)
    assert began_k_update(0.0001, 0.0, 1.0, gamma=0.5, lambda_k=0.001) == 0.0  # would be -0.0009
    assert began_k_update(0.9999, 2.0, 0.0, gamma=0.5, lambda_k=0.001) == 1.0  # would be 1.0009
    assert began_k_update(0.0, 0.2, 0.1, gamma=0.5, lambda_k=0.001) == 0.0  # at equilibrium k stays


def test_began_convergence_measure():
    assert began_convergence(1.0, 0.2, gamma=0.5) == pytest.approx(1.0 + 0.3)
    assert began_convergence(1.0, 0.9, gamma=0.5) == pytest.approx(1.0 + 0.4)
    assert began_convergence(0.4, 0.2, gamma=0.5) == pytest.approx(0.4)  # at equilibrium: L(x)


def test_began_losses_and_k_from_process_averaged_losses():
    algo = BEGAN(None, gamma=0.5, lambda_k=0.01, k0=0.2)
    real = constant_images([0.5, -1.5])  # L1 energies 0.5, 1.5: L(x) = 1.0 here
    generator = ConstantGenerator([0.25, -0.75])  # L(G(z)) = 0.5 here
    other = torch.tensor([3.0, 0.1])  # another process's (L(x), L(G(z)))
    ctx = StepContext(0, 10, reduce_mean=lambda t: (t + other) / 2)
    loss, logs = algo.discriminator_loss(generator, ZeroReconstruction(), real, None, torch.zeros(2, 3), ctx)
    assert loss.item() == pytest.approx(1.0 - 0.2 * 0.5)  # this process's losses, the old k
    real_mean, fake_mean = (1.0 + 3.0) / 2, (0.5 + 0.1) / 2
    expected_k = 0.2 + 0.01 * (0.5 * real_mean - fake_mean)
    assert logs["d_real"] == pytest.approx(real_mean) and logs["d_fake"] == pytest.approx(fake_mean)
    assert logs["k_t"] == pytest.approx(expected_k)
    assert logs["m_global"] == pytest.approx(real_mean + abs(0.5 * real_mean - fake_mean))
    assert algo.k == 0.2  # applied after the optimizer step, not while computing the loss
    algo.after_d_step(ZeroReconstruction(), ctx)
    assert algo.k == pytest.approx(expected_k)
    g_loss, g_logs = algo.generator_loss(generator, ZeroReconstruction(), torch.zeros(2, 3), None, real, ctx)
    assert g_loss.item() == pytest.approx(0.5) and g_logs["g_loss"] == pytest.approx(0.5)


def test_began_state_dict_round_trip():
    algo = BEGAN(None)
    algo.k = 0.123456789012345
    state = algo.state_dict()
    resumed = BEGAN(None)
    resumed.load_state_dict(state)
    assert resumed.k == algo.k  # exact: stored in float64
    with pytest.raises(KeyError, match="k_t"):
        BEGAN(None).load_state_dict({})


def test_generator_loss_replacing_techniques_are_refused():
    class FeatureMatchingLike(Technique):  # the refusal reads the declared effect, not the class
        name = "feature-matching-like"
        effects = frozenset({REPLACES_GENERATOR_LOSS})

    for algorithm in (BEGAN, EBGAN):
        with pytest.raises(ValueError, match="feature-matching-like replaces the generator loss"):
            algorithm(None, [FeatureMatchingLike()])


# ---- autoencoder discriminators ---------------------------------------------------------------------------
@pytest.mark.parametrize("size, channels", [(28, 1), (32, 3)])
def test_conv_autoencoder_reconstruction_shapes(size, channels):
    d = ConvAutoencoderDiscriminator(channels=channels, image_size=size, base_channels=8, d_hidden=16)
    x = torch.randn(3, channels, size, size)
    assert d(x).shape == (3, channels, size, size)
    assert d.encode(x).shape == (3, 16)
    reconstruction, code = d(x, None, return_code=True)
    assert torch.allclose(reconstruction, d.decode(code)) and torch.allclose(code, d.encode(x))


def test_mlp_autoencoder_reconstruction_shapes():
    d = MLPAutoencoderDiscriminator(channels=1, image_size=6, hidden_dim=16)
    x = torch.randn(4, 1, 6, 6)
    assert d(x).shape == (4, 1, 6, 6) and d.encode(x).shape == (4, 4)


def test_autoencoders_are_registered_with_their_generators():
    config = GeneratorConfig(
        variant="ebgan",
        arch="dcgan",
        image_size=28,
        latent_dim=8,
        discriminator_arch="autoencoder",
        arch_kwargs={"base_channels": 8, "d_hidden": 12, "g_hidden": 4},
    )
    g, d = build_generator_network(config), build_discriminator_network(config)
    assert isinstance(d, ConvAutoencoderDiscriminator) and d.code_dim == 12
    assert d(g(torch.randn(2, 8))).shape == (2, 1, 28, 28)
    mlp = GeneratorConfig(
        variant="x",
        arch="mlp",
        image_size=6,
        latent_dim=8,
        arch_kwargs={"hidden_dim": 16},
        discriminator_arch="autoencoder-mlp",
    )
    assert build_discriminator_network(mlp)(build_generator_network(mlp)(torch.randn(2, 8))).shape == (2, 1, 6, 6)


def test_autoencoders_are_unconditional():
    with pytest.raises(ValueError, match="unconditional"):
        ConvAutoencoderDiscriminator(channels=1, image_size=28, num_classes=10)
    with pytest.raises(ValueError, match="unconditional"):
        MLPAutoencoderDiscriminator(channels=1, image_size=6, num_classes=3)


def test_variants_are_registered_with_the_autoencoder():
    for name, algorithm in (("ebgan", EBGAN), ("began", BEGAN)):
        spec = get_variant(name)
        assert spec.algorithm is algorithm and spec.arch == "dcgan" and spec.discriminator_arch == "autoencoder"
        assert not spec.conditional and "arXiv" in spec.paper
    assert get_variant("began").lr_g == get_variant("began").lr_d == 1e-4
    assert (ROOT / "gan_hub" / "model_cards" / "variants" / "began.md").read_text().count("m_global") >= 1


# ---- the real trainer -------------------------------------------------------------------------------------
def train(variant: str, output_dir: Path, max_steps: int = 20):
    from train.config import TrainConfig
    from train.trainer import Trainer

    cfg = TrainConfig(
        variant=variant,
        dataset="synthetic",
        max_steps=max_steps,
        batch_size=16,
        eval_samples=0,
        eval_samples_during_training=0,
        sample_every=1000,
        eval_every=1000,
        checkpoint_every=10,
        log_every=1,
        output_dir=str(output_dir),
        arch_kwargs={"base_channels": 8},
    )
    trainer = Trainer(cfg)
    logs, step = [], trainer.train_step

    def recording_step(real, labels):
        out = step(real, labels)
        logs.append(dict(out))
        return out

    trainer.train_step = recording_step
    trainer.train()
    return trainer, logs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return {v: train(v, tmp_path_factory.mktemp(v)) for v in ("ebgan", "began")}


@pytest.mark.parametrize("variant, extra", [("ebgan", {"g_pt"}), ("began", {"m_global", "k_t"})])
def test_variant_trains_with_the_real_trainer(runs, variant, extra):
    trainer, logs = runs[variant]
    out = Path(trainer.cfg.output_dir)
    assert len(logs) == 20
    for entry in logs:
        assert {"d_loss", "d_real", "d_fake", "g_loss"} | extra <= set(entry)
        assert all(math.isfinite(v) for v in entry.values()), entry
    events = b"".join(p.read_bytes() for p in (out / "tensorboard").rglob("events.out.tfevents*"))
    assert all(key.encode() in events for key in extra | {"d_loss", "g_loss"})
    g = Generator.from_pretrained(out / "model")
    assert g.config.variant == variant and g.generate(2, seed=0).shape == (2, 1, 16, 16)
    d = ConvAutoencoderDiscriminator(channels=1, image_size=16, base_channels=8)
    d.load_state_dict(load_file(str(out / "model" / "discriminator.safetensors")))
    if variant == "began":
        ks = [entry["k_t"] for entry in logs]
        assert all(0 <= k <= 1 for k in ks) and trainer.algorithm.k == ks[-1]
        # the card reports the convergence measure of the last step
        card = (out / "model" / "README.md").read_text()
        assert f"m_global {logs[-1]['m_global']:.4g}" in card and f"k_t {ks[-1]:.4g}" in card


def test_resumed_began_run_continues_with_k_t(runs, tmp_path):
    straight, _ = runs["began"]
    first, _ = train("began", tmp_path, max_steps=10)
    assert first.algorithm.k > 0
    resumed, logs = train("began", tmp_path, max_steps=20)
    assert len(logs) == 10  # steps 11-20 only: it resumed from the step-10 checkpoint
    assert resumed.algorithm.k == straight.algorithm.k
    for name, tensor in load_file(str(Path(straight.cfg.output_dir) / "model" / "model.safetensors")).items():
        assert torch.equal(tensor, load_file(str(tmp_path / "model" / "model.safetensors"))[name]), name


def test_began_with_two_processes_keeps_one_k_t(tmp_path):
    # On a CPU-only machine the trainer joins the processes in a gloo group (see Trainer and tests/test_train.py).
    config = tmp_path / "run.yaml"
    config.write_text(
        f"variant: began\ndataset: synthetic\nmax_steps: 6\nbatch_size: 16\ncheckpoint_every: 3\n"
        f"sample_every: 1000\neval_every: 1000\neval_samples: 0\neval_samples_during_training: 0\n"
        f"arch_kwargs: {{base_channels: 8}}\noutput_dir: {tmp_path / 'out'}\n"
    )
    launcher = two_process_launcher()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        launcher + ["-m", "train", "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    checkpoint = tmp_path / "out" / "checkpoints" / "step_00000006"
    k0, k1 = (load_file(str(checkpoint / f"noise_rng_{i}.safetensors"))["algorithm.k_t"] for i in (0, 1))
    # each process saw its own data and noise; the averaged losses keep k_t the same on both
    assert k0.item() > 0 and torch.equal(k0, k1)
    assert Generator.from_pretrained(tmp_path / "out" / "model").config.provenance["num_processes"] == 2
