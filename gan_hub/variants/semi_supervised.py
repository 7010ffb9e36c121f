"""Semi-supervised GAN (Salimans, Goodfellow, Zaremba, Cheung, Radford & Chen, 2016, "Improved
Techniques for Training GANs", arXiv:1606.03498, sec. 5).

The discriminator is a classifier with K+1 outputs: the K classes of the data and a (K+1)-th class
"generated". Its network outputs the K logits l_1..l_K only; the fake class's logit is fixed at 0
(softmax is unchanged by subtracting the same value from every logit, so this costs no generality).
With Z(x) = sum_k exp(l_k(x)),

    p(y = k | x)     = exp(l_k) / (Z + 1)          k = 1..K
    p(y = K+1 | x)   = 1 / (Z + 1)                 (fake)
    D(x) = 1 - p(y = K+1 | x) = Z / (Z + 1) = sigmoid(logsumexp_k l_k)

so the real/fake logit is s(x) = logsumexp(l(x)). The discriminator minimises

    L = L_supervised + w * L_unsupervised
    L_supervised   = -E_{(x, y) labelled} log p(y | x, y <= K)  = cross-entropy of the K logits
    L_unsupervised = -E_{x unlabelled} log D(x) - E_z log(1 - D(G(z)))
                   =  E softplus(-s(x_unl)) + E softplus(s(G(z)))

(written with logsumexp and softplus, so no probability is ever formed: stable at any logit).
w = ``unlabelled_weight``: the paper's equation has 1; our default 0.5 is the factor 1/2 on both
unsupervised terms of the authors' MNIST code, which is what the reported numbers were trained with.
The generator is trained by feature matching on the activations of D's last hidden layer (the
``feature_matching`` technique on ``D.body``), the setting the paper reports for MNIST, with the authors'
loss: the squared difference of the mean features averaged over the 250 features (``reduction: mean``),
not summed as in the paper's formula. With the authors' Adam (below) the factor is not neutral: in a
run with the summed loss, 20-50 % of G's weight entries had a root of v_hat under 250 x 1e-4, where the
averaged loss's gradients fall under the eps and the authors' steps are damped. Its real features
come from the D step's unlabelled batch (the trainer's one stream); the authors' code walks a second
permutation of the training set for G's step, which changes which images, not what is matched.

The optimizer. Both players train with Adam 0.003, beta1 0.5, as the authors' code does, and with its
Adam: eps = 1e-8 under the square root (``adam-eps-in-sqrt``, gan_hub/optim.py), not added to it as
torch's Adam does. Most of D's weight-normed direction entries get gradients below 1e-4, which torch's
Adam would turn by about the full learning rate each step; ``--optimizer adam`` trains with it anyway.

Labelled data. ``bind_data`` picks ``num_labelled`` examples (default 100), the same number from each
class, from the training set with the run's seed: the labelled subset depends on the seed alone, so
every process picks the same one. Each D step draws a labelled batch as large as the unlabelled one
by walking fresh random permutations of the subset (the labelled set repeated to fill the batch, as in
the paper); the random generator is the algorithm's own, per process, and is saved in checkpoints. The
unlabelled stream is the trainer's ordinary loader over the whole training set, whose labels the
algorithm never reads (the authors' code also uses every training image as unlabelled).

The classifier. The authors test a running average of the discriminator's weights (Polyak
averaging), not the last weights, which move with the noise of every step. Here each D step updates an
exponential moving average of D's parameters (decay ``average_decay``, 0.999 by default, ramped up as
(1 + n) / (10 + n) over the first steps so that the average forgets the random initial weights; the
authors use 0.9999 from zero over 300 epochs, longer than our runs). The trainer exports the average as
``discriminator.safetensors`` (``average_decay=0`` exports the last weights); the average is saved in
checkpoints. :class:`gan_hub.classifier.Classifier` loads it and predicts classes.
"""

from __future__ import annotations

from numbers import Integral

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from ..game import Batch, DOutput
from ..objectives import Objective
from ..registry import VARIANTS
from ..techniques._common import process_rank, unwrap
from .base import AdversarialAlgorithm, StepContext, Technique, VariantSpec

Tensor = torch.Tensor

DEFAULT_NUM_LABELLED = 100
DEFAULT_UNLABELLED_WEIGHT = 0.5
INIT_EXAMPLES = 500  # training images for the discriminator's data-dependent initialisation
DEFAULT_AVERAGE_DECAY = 0.999


# ---- the K+1 classifier, as pure functions of the K class logits ---------------------------------
def real_fake_logit(class_logits: Tensor) -> Tensor:
    """s(x) = logsumexp_k l_k(x) [N]: the logit of D(x) = Z / (Z + 1), in float32 (or float64)."""
    logits = class_logits if class_logits.dtype == torch.float64 else class_logits.float()
    return torch.logsumexp(logits, dim=1)


def real_probability(class_logits: Tensor) -> Tensor:
    """D(x) = Z / (Z + 1) = sigmoid(logsumexp(l)) [N]: the probability that x is real."""
    return torch.sigmoid(real_fake_logit(class_logits))


def k_plus_one_probabilities(class_logits: Tensor) -> Tensor:
    """[N, K+1]: softmax over the K class logits and the fake class's fixed logit 0 (last column)."""
    logits = class_logits if class_logits.dtype == torch.float64 else class_logits.float()
    return torch.softmax(F.pad(logits, (0, 1)), dim=1)


def supervised_loss(class_logits: Tensor, labels: Tensor) -> Tensor:
    """-mean log p(y | x, y <= K): the cross-entropy of the K class logits (the fake class left out)."""
    logits = class_logits if class_logits.dtype == torch.float64 else class_logits.float()
    return F.cross_entropy(logits, labels)


def unsupervised_loss(real_class_logits: Tensor, fake_class_logits: Tensor) -> Tensor:
    """-mean log D(x_unl) - mean log(1 - D(G(z))) = mean softplus(-s(x_unl)) + mean softplus(s(G(z)))."""
    return (
        F.softplus(-real_fake_logit(real_class_logits)).mean() + F.softplus(real_fake_logit(fake_class_logits)).mean()
    )


# ---- the labelled subset --------------------------------------------------------------------------
def balanced_subset(labels: Tensor, num_labelled: int, num_classes: int, seed: int) -> Tensor:
    """Sorted indices of ``num_labelled`` examples, ``num_labelled / num_classes`` of each class, drawn
    uniformly without replacement with ``seed`` (the same seed gives the same subset)."""
    if num_labelled % num_classes:
        raise ValueError(
            f"num_labelled ({num_labelled}) must be a multiple of the number of classes ({num_classes}), "
            "so that every class gets the same number of labelled examples"
        )
    per_class = num_labelled // num_classes
    rng = torch.Generator().manual_seed(int(seed))
    chosen = []
    for k in range(num_classes):
        members = (labels == k).nonzero().flatten()
        if len(members) < per_class:
            raise ValueError(
                f"class {k} has {len(members)} training examples, fewer than the {per_class} labelled "
                f"ones asked for (num_labelled {num_labelled}): lower num_labelled"
            )
        chosen.append(members[torch.randperm(len(members), generator=rng)[:per_class]])
    return torch.cat(chosen).sort().values


@torch.no_grad()
def broadcast_buffers(module: nn.Module, source: int = 0) -> None:
    """Every floating-point buffer of ``module`` set to process ``source``'s (no-op in one process)."""
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return
    for buffer in module.buffers():
        if buffer.is_floating_point():
            torch.distributed.broadcast(buffer, src=source)


class SemiSupervisedAlgorithm(AdversarialAlgorithm):
    """The K+1 discriminator's losses (module docstring). ``num_labelled``: labelled training examples,
    balanced over the classes (default 100); ``unlabelled_weight``: w (default 0.5); ``average_decay``:
    of the exported classifier's weight average (default 0.999; 0: the last weights)."""

    def __init__(
        self,
        objective: Objective,
        techniques: list[Technique] | None = None,
        num_labelled: int = DEFAULT_NUM_LABELLED,
        unlabelled_weight: float = DEFAULT_UNLABELLED_WEIGHT,
        average_decay: float = DEFAULT_AVERAGE_DECAY,
    ):
        super().__init__(objective, techniques)
        if isinstance(num_labelled, bool) or not isinstance(num_labelled, Integral) or num_labelled < 1:
            raise ValueError(f"num_labelled must be a positive integer, got {num_labelled!r}")
        if (
            isinstance(unlabelled_weight, bool)
            or not isinstance(unlabelled_weight, (int, float))
            or not unlabelled_weight >= 0
        ):
            raise ValueError(f"unlabelled_weight must be a non-negative number, got {unlabelled_weight!r}")
        if isinstance(average_decay, bool) or not isinstance(average_decay, (int, float)) or not 0 <= average_decay < 1:
            raise ValueError(f"average_decay must be a number in [0, 1), got {average_decay!r}")
        self.num_labelled, self.unlabelled_weight = int(num_labelled), float(unlabelled_weight)
        self.average_decay = float(average_decay)
        self.average: dict[str, Tensor] = {}  # parameter name -> running average (empty until the first D step)
        self.averaged_steps = 0
        self.labelled_indices: Tensor | None = None
        self.labelled_images: Tensor | None = None
        self.labelled_labels: Tensor | None = None
        self._rng: torch.Generator | None = None
        self._discriminator: nn.Module | None = None

    def setup(self, generator: nn.Module, discriminator: nn.Module) -> None:
        self._discriminator = unwrap(discriminator)  # initialised from data in bind_data
        super().setup(generator, discriminator)

    # ---- data -------------------------------------------------------------------------------------
    def bind_data(self, dataset, seed: int) -> None:
        labels = getattr(dataset, "labels", None)
        num_classes = dataset.info.num_classes
        if labels is None or num_classes < 2:
            raise ValueError(
                f"semi-supervised training needs a labelled dataset with at least 2 classes; "
                f"{dataset.info.name} has {num_classes}"
            )
        self.labelled_indices = balanced_subset(labels, self.num_labelled, num_classes, seed)
        items = [dataset[int(i)] for i in self.labelled_indices]
        self.labelled_images = torch.stack([image for image, _ in items])
        self.labelled_labels = torch.stack([torch.as_tensor(label) for _, label in items]).long()
        self._rng = torch.Generator().manual_seed(int(seed) * 1_000_003 + process_rank())
        if self._discriminator is not None and callable(getattr(self._discriminator, "data_dependent_init", None)):
            init_rng = torch.Generator().manual_seed(int(seed) + 1)
            chosen = torch.randperm(len(dataset), generator=init_rng)[:INIT_EXAMPLES]
            self._discriminator.data_dependent_init(torch.stack([dataset[int(i)][0] for i in chosen]))
            # Data parallelism copies rank 0's parameters into every process when it wraps D, but not its
            # buffers (the trainer sets broadcast_buffers=False): the fixed scales are copied here.
            broadcast_buffers(self._discriminator)

    def labelled_batch(self, n: int, device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
        """n labelled examples: consecutive random permutations of the subset, cut at n."""
        if self.labelled_images is None:
            raise RuntimeError("call bind_data(dataset, seed) first: the algorithm has no labelled examples")
        count = len(self.labelled_images)
        order = torch.cat([torch.randperm(count, generator=self._rng) for _ in range(-(-n // count))])[:n]
        return self.labelled_images[order].to(device), self.labelled_labels[order].to(device)

    # ---- the averaged classifier -------------------------------------------------------------------
    @torch.no_grad()
    def after_d_step(self, discriminator: nn.Module, ctx: StepContext) -> None:
        super().after_d_step(discriminator, ctx)
        if not self.average_decay:
            return
        rate = min(self.average_decay, (1 + self.averaged_steps) / (10 + self.averaged_steps))
        for name, p in unwrap(discriminator).named_parameters():
            if name not in self.average:
                self.average[name] = p.detach().clone()
            else:
                average = self.average[name] = self.average[name].to(p.device)  # loaded from a checkpoint: on the CPU
                average.lerp_(p.detach(), 1 - rate)
        self.averaged_steps += 1

    def discriminator_export(self, discriminator: nn.Module) -> dict[str, Tensor]:
        """D's state with its parameters replaced by their running average (when one is kept)."""
        state = dict(discriminator.state_dict())
        state.update({name: value.clone() for name, value in self.average.items()})
        return state

    def state_dict(self) -> dict[str, Tensor]:
        state = super().state_dict()
        if self._rng is not None:
            state["labelled_rng"] = self._rng.get_state()
        if self.average:
            state["averaged_steps"] = torch.tensor(self.averaged_steps)
            state.update({f"average.{name}": value for name, value in self.average.items()})
        return state

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        super().load_state_dict(state)
        if "labelled_rng" in state and self._rng is not None:
            self._rng.set_state(state["labelled_rng"].to("cpu", torch.uint8))
        if "averaged_steps" in state:
            self.averaged_steps = int(state["averaged_steps"])
            self.average = {k[len("average.") :]: v.clone() for k, v in state.items() if k.startswith("average.")}

    def discriminator_kwargs(self, dataset_info) -> dict:
        return {
            "d_classes": list(dataset_info.class_names)
        }  # D classifies the dataset's K classes; G stays unconditional

    # ---- losses ----------------------------------------------------------------------------------
    # D runs three times in a D step (unlabelled, generated, labelled) and twice in a G step (feature
    # matching): its weight-normalised weights are computed once per step, not per call. The values and
    # gradients are the same; the normalisation of the 1000 x 784 matrix was most of a step's time.
    def discriminator_loss(self, *args, **kwargs):
        with parametrize.cached():
            return super().discriminator_loss(*args, **kwargs)

    def generator_loss(self, *args, **kwargs):
        with parametrize.cached():
            return super().generator_loss(*args, **kwargs)

    def discriminate(self, discriminator: nn.Module, images: Tensor, labels: Tensor | None) -> DOutput:
        """D's score is the real/fake logit s(x) = logsumexp of the K class logits (kept as ``class_logits``)."""
        class_logits = discriminator(images)
        if class_logits.ndim != 2 or class_logits.shape[1] < 2:
            raise ValueError(
                f"semi-supervised training needs a discriminator that outputs K class logits [N, K]; "
                f"{type(unwrap(discriminator)).__name__} gave {tuple(class_logits.shape)} (use the "
                "semi-supervised-mlp architecture)"
            )
        return DOutput(real_fake_logit(class_logits), {"class_logits": class_logits})

    def d_adversarial_loss(self, batch: Batch, real: DOutput, fake: DOutput) -> Tensor:
        unsupervised = unsupervised_loss(real["class_logits"], fake["class_logits"])
        batch.extras["unsupervised"] = unsupervised.item()
        return self.unlabelled_weight * unsupervised

    def d_terms(self, batch: Batch, real: DOutput, fake: DOutput) -> dict[str, Tensor]:
        labelled, targets = self.labelled_batch(len(batch.real), batch.real.device)
        labelled_logits = self.discriminate(batch.discriminator, labelled.to(batch.real.dtype), None)["class_logits"]
        batch.extras["labelled_acc"] = (labelled_logits.argmax(1) == targets).float().mean().item()
        return {"supervised": supervised_loss(labelled_logits, targets)}

    def d_logs(self, batch: Batch, real: DOutput, fake: DOutput) -> dict[str, float]:
        return {
            "d_real": real_probability(real["class_logits"]).mean().item(),
            "d_fake": real_probability(fake["class_logits"]).mean().item(),
            "d_labelled_acc": batch.extras["labelled_acc"],
            "d_unsupervised": batch.extras["unsupervised"],
        }


VARIANTS.register(
    "semi-supervised",
    VariantSpec(
        name="semi-supervised",
        arch="semi-supervised-mlp",
        objective="non-saturating",
        algorithm=SemiSupervisedAlgorithm,
        techniques={"feature_matching": {"reduction": "mean"}},
        optimizer="adam-eps-in-sqrt",
        lr_g=3e-3,
        lr_d=3e-3,
        betas=(0.5, 0.999),
        batch_size=100,
        summary=f"semi-supervised GAN: K+1 classifier D (fake logit fixed at 0, D(x) = sigmoid(logsumexp l)), "
        f"{DEFAULT_NUM_LABELLED} balanced labelled examples + the training set unlabelled, feature-matching G; "
        "D is exported as a classifier",
        paper="Salimans, Goodfellow, Zaremba, Cheung, Radford & Chen, Improved Techniques for Training GANs, 2016 "
        "(arXiv:1606.03498)",
    ),
)
