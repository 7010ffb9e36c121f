"""Energy-based variants: the discriminator is an autoencoder (gan_hub/archs/autoencoder.py) and its
per-sample reconstruction error is an energy, low on the data and high elsewhere.

* EBGAN (Zhao, Mathieu & LeCun, 2016, arXiv:1609.03126). Energy D(x) = mean squared reconstruction
  error of x. D minimises D(x) + max(0, m - D(G(z))): real energies down, fake energies up to the
  margin m and no further. G minimises D(G(z)) + lambda_pt * PT, where the pulling-away term
  PT = 1/(N(N-1)) sum_{i != j} cos^2(S_i, S_j) over the encoder's codes S of the N fakes pushes the
  fakes' codes apart (against mode collapse). PT is used in the generator loss only, as in the paper.
* BEGAN (Berthelot, Schumm & Metz, 2017, arXiv:1703.10717). L(v) = mean |v - D(v)| (L1 reconstruction
  loss). D minimises L(x) - k_t L(G(z)), G minimises L(G(z)), and after every D step
  k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1) keeps E[L(G(z))] = gamma E[L(x)]
  (proportional control; gamma is the diversity ratio). M_global = L(x) + |gamma L(x) - L(G(z))|
  measures convergence; it is logged as ``m_global`` and k_t as ``k_t``.

The algorithms compute energies instead of logits, so they ignore the variant's objective (the
VariantSpec names one only because every spec must). Technique hooks apply as in the base algorithm:
``d_inputs``/``g_inputs`` change what the autoencoder sees, penalties are added to the losses,
``after_*_step`` hooks run. Techniques that replace the generator loss (feature matching) would
replace the energy and are refused.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..archs.autoencoder import AutoencoderDiscriminator  # also registers the autoencoder architectures
from ..game import REPLACES_GENERATOR_LOSS, Batch, DOutput
from ..objectives import Objective
from ..registry import VARIANTS
from .base import AdversarialAlgorithm, StepContext, Technique, VariantSpec

Tensor = torch.Tensor


# ---- energies and losses as pure functions (tested on hand-made numbers) ---------------------------------
def mse_energy(x: Tensor, reconstruction: Tensor) -> Tensor:
    """Per-sample mean squared reconstruction error, [N] (EBGAN's energy), in float32."""
    return (reconstruction.float() - x.float()).pow(2).flatten(1).mean(1)


def l1_energy(x: Tensor, reconstruction: Tensor) -> Tensor:
    """Per-sample mean absolute reconstruction error, [N] (BEGAN's L(v)), in float32."""
    return (reconstruction.float() - x.float()).abs().flatten(1).mean(1)


def ebgan_discriminator_loss(real_energy: Tensor, fake_energy: Tensor, margin: float) -> Tensor:
    """mean D(x) + mean max(0, m - D(G(z))) over the batch."""
    return real_energy.mean() + F.relu(margin - fake_energy).mean()


def pulling_away_term(codes: Tensor) -> Tensor:
    """1/(N(N-1)) sum over pairs i != j of the squared cosine similarity of the codes [N, ...].

    0 for mutually orthogonal codes, 1 for parallel ones; 0 for a batch of one (no pairs).
    """
    n = len(codes)
    if n < 2:
        return codes.new_zeros((), dtype=torch.float32)
    unit = F.normalize(codes.flatten(1).float(), dim=1)
    cos2 = (unit @ unit.t()).pow(2)
    off_diagonal = ~torch.eye(n, dtype=torch.bool, device=codes.device)
    return cos2[off_diagonal].sum() / (n * (n - 1))


def began_k_update(k: float, real_loss: float, fake_loss: float, gamma: float, lambda_k: float) -> float:
    """k_{t+1} = clip(k_t + lambda_k (gamma L(x) - L(G(z))), 0, 1)."""
    return min(1.0, max(0.0, k + lambda_k * (gamma * real_loss - fake_loss)))


def began_convergence(real_loss: float, fake_loss: float, gamma: float) -> float:
    """M_global = L(x) + |gamma L(x) - L(G(z))|: falls as training converges."""
    return real_loss + abs(gamma * real_loss - fake_loss)


# ---- algorithms -------------------------------------------------------------------------------------
def _autoencoder(discriminator: nn.Module) -> AutoencoderDiscriminator:
    net = getattr(discriminator, "module", discriminator)  # a DDP wrapper holds the network in .module
    if not isinstance(net, AutoencoderDiscriminator):
        raise TypeError(
            f"energy-based variants need an autoencoder discriminator (discriminator_arch='autoencoder' "
            f"or 'autoencoder-mlp'), got {type(net).__name__}"
        )
    return net


class EnergyAlgorithm(AdversarialAlgorithm):
    """Shared by EBGAN and BEGAN: the objective is ignored, and D scores a batch by its reconstruction energy.

    ``discriminate`` gives the per-sample energy as D's score (``logits``) with the reconstruction and
    the encoder's code as extras."""

    incompatible = {REPLACES_GENERATOR_LOSS: "in energy-based variants the generator loss is the energy of the fakes"}

    def setup(self, generator: nn.Module, discriminator: nn.Module) -> None:
        _autoencoder(discriminator)
        super().setup(generator, discriminator)

    def energy(self, x: Tensor, reconstruction: Tensor) -> Tensor:
        raise NotImplementedError

    def discriminate(self, discriminator: nn.Module, images: Tensor, labels: Tensor | None) -> DOutput:
        reconstruction, code = discriminator(images, labels, return_code=True)
        return DOutput(self.energy(images, reconstruction), {"reconstruction": reconstruction, "code": code})

    def g_adversarial_loss(self, batch: Batch, fake: DOutput) -> Tensor:
        return fake.logits.mean()


class EBGAN(EnergyAlgorithm):
    """EBGAN with the autoencoder energy and the pulling-away term (EBGAN-PT).

    ``margin``: m in the D loss (default 10, see the ``ebgan`` model card); ``pt_weight``: lambda_pt,
    the weight of the pulling-away term in G's loss (0.1 as in the paper; 0 gives plain EBGAN).
    """

    def __init__(
        self,
        objective: Objective | None = None,
        techniques: list[Technique] | None = None,
        margin: float = 10.0,
        pt_weight: float = 0.1,
    ):
        super().__init__(objective, techniques)
        if margin <= 0:
            raise ValueError(f"EBGAN's margin must be positive, got {margin}")
        self.margin, self.pt_weight = float(margin), float(pt_weight)

    energy = staticmethod(mse_energy)

    def d_adversarial_loss(self, batch: Batch, real: DOutput, fake: DOutput) -> Tensor:
        return ebgan_discriminator_loss(real.logits, fake.logits, self.margin)

    def d_logs(self, batch: Batch, real: DOutput, fake: DOutput) -> dict[str, float]:
        return {"d_real": real.logits.mean().item(), "d_fake": fake.logits.mean().item()}

    def g_logs(self, batch: Batch, fake: DOutput | None) -> dict[str, float]:
        return {"g_energy": fake.logits.mean().item()}

    def g_terms(self, batch: Batch, fake: DOutput | None) -> dict[str, Tensor]:
        return {"pt": self.pt_weight * pulling_away_term(fake["code"])}


class BEGAN(EnergyAlgorithm):
    """BEGAN's equilibrium-controlled losses.

    ``gamma``: the diversity ratio E[L(G(z))] / E[L(x)] the control aims at (0.5); ``lambda_k``: the
    proportional gain of k (0.001, the paper's); ``k0``: k's first value (0, the paper's).
    ``k_t`` is updated in ``after_d_step`` from the D step's L(x) and L(G(z)) averaged over processes
    (``ctx.reduce_mean``), so every process holds the same k; it is saved in ``state_dict``.
    The logs carry ``d_real`` = L(x), ``d_fake`` = L(G(z)) (process means), ``m_global`` and ``k_t``
    (the value after this step's update, used by the next D step).
    """

    def __init__(
        self,
        objective: Objective | None = None,
        techniques: list[Technique] | None = None,
        gamma: float = 0.5,
        lambda_k: float = 1e-3,
        k0: float = 0.0,
    ):
        super().__init__(objective, techniques)
        if not 0 < gamma <= 1:
            raise ValueError(f"BEGAN's gamma must be in (0, 1], got {gamma}")
        if not 0 <= k0 <= 1:
            raise ValueError(f"BEGAN's k0 must be in [0, 1], got {k0}")
        self.gamma, self.lambda_k, self.k = float(gamma), float(lambda_k), float(k0)
        self._next_k: float | None = None

    energy = staticmethod(l1_energy)

    def d_adversarial_loss(self, batch: Batch, real: DOutput, fake: DOutput) -> Tensor:
        real_loss, fake_loss = real.logits.mean(), fake.logits.mean()
        real_mean, fake_mean = batch.ctx.reduce_mean(torch.stack([real_loss, fake_loss]).detach()).tolist()
        self._next_k = began_k_update(self.k, real_mean, fake_mean, self.gamma, self.lambda_k)
        batch.extras["began"] = {
            "d_real": real_mean,
            "d_fake": fake_mean,
            "m_global": began_convergence(real_mean, fake_mean, self.gamma),
            "k_t": self._next_k,
        }
        return real_loss - self.k * fake_loss

    def d_logs(self, batch: Batch, real: DOutput, fake: DOutput) -> dict[str, float]:
        return batch.extras["began"]

    def after_d_step(self, discriminator: nn.Module, ctx: StepContext) -> None:
        if self._next_k is not None:
            self.k, self._next_k = self._next_k, None
        super().after_d_step(discriminator, ctx)

    def state_dict(self) -> dict[str, Tensor]:
        return {**super().state_dict(), "k_t": torch.tensor(self.k, dtype=torch.float64)}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        if "k_t" not in state:
            raise KeyError("the checkpoint holds no BEGAN k_t: was it written by another variant?")
        super().load_state_dict(state)
        self.k, self._next_k = float(state["k_t"]), None


# ---- variants -----------------------------------------------------------------------------------------
def register_energy_variant(name: str, algorithm: type, summary: str, paper: str, lr: float) -> None:
    """An energy-based preset: the DCGAN generator against a convolutional autoencoder discriminator.

    VariantSpec requires an objective name; these algorithms ignore it.
    """
    VARIANTS.register(
        name,
        VariantSpec(
            name=name,
            summary=summary,
            paper=paper,
            arch="dcgan",
            discriminator_arch="autoencoder",
            objective="non-saturating",
            algorithm=algorithm,
            arch_kwargs={"base_channels": 64, "d_hidden": 64},
            optimizer="adam",
            lr_g=lr,
            lr_d=lr,
            betas=(0.5, 0.999),
        ),
    )


register_energy_variant(
    "ebgan",
    EBGAN,
    lr=2e-4,
    summary="energy-based GAN: autoencoder D, MSE energy with margin 10, pulling-away term 0.1; Adam 2e-4 / beta1 0.5",
    paper="Zhao, Mathieu & LeCun, Energy-based Generative Adversarial Network, 2016 (arXiv:1609.03126)",
)
register_energy_variant(
    "began",
    BEGAN,
    lr=1e-4,
    summary="boundary equilibrium GAN: autoencoder D, L1 loss, k_t control (gamma 0.5, lambda_k 1e-3); Adam 1e-4",
    paper="Berthelot, Schumm & Metz, BEGAN: Boundary Equilibrium Generative Adversarial Networks, 2017 "
    "(arXiv:1703.10717)",
)
