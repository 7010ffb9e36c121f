"""Loss values on known logits and the sign/size of their gradients (Goodfellow 2016 tutorial conventions)."""
import math

import pytest
import torch

from gan_hub.objectives import get_objective
from gan_hub.registry import UnknownNameError


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


REAL = [2.0, -1.0, 0.5]
FAKE = [-3.0, 0.0, 1.5]


def expected_d_loss() -> float:
    real = sum(-math.log(sigmoid(x)) for x in REAL) / len(REAL)
    fake = sum(-math.log(1 - sigmoid(x)) for x in FAKE) / len(FAKE)
    return 0.5 * real + 0.5 * fake


@pytest.mark.parametrize("name", ["minimax", "non-saturating", "maximum-likelihood"])
def test_discriminator_loss_is_binary_cross_entropy(name):
    loss = get_objective(name).discriminator_loss(torch.tensor(REAL), torch.tensor(FAKE))
    assert loss.item() == pytest.approx(expected_d_loss(), rel=1e-6)


@pytest.mark.parametrize("name, per_sample", [
    ("minimax", lambda x: 0.5 * math.log(1 - sigmoid(x))),
    ("non-saturating", lambda x: -0.5 * math.log(sigmoid(x))),
    ("maximum-likelihood", lambda x: -0.5 * math.exp(x)),  # -1/2 exp(sigmoid^-1(D)) and sigmoid^-1(D) is the logit
])
def test_generator_losses_on_known_logits(name, per_sample):
    loss = get_objective(name).generator_loss(torch.tensor(FAKE))
    assert loss.item() == pytest.approx(sum(map(per_sample, FAKE)) / len(FAKE), rel=1e-6)


@pytest.mark.parametrize("name", ["minimax", "non-saturating", "maximum-likelihood"])
def test_generator_gradient_pushes_fake_logits_up(name):
    logits = torch.tensor(FAKE, requires_grad=True)
    get_objective(name).generator_loss(logits).backward()
    assert (logits.grad < 0).all()


def test_gradient_sizes_follow_the_tutorial():
    """d/dl of each G loss per sample: minimax -D/2, non-saturating -(1-D)/2, ML -exp(l)/2."""
    logit = -6.0  # D confidently rejects the sample
    grads = {}
    for name in ("minimax", "non-saturating", "maximum-likelihood"):
        x = torch.tensor([logit], requires_grad=True)
        get_objective(name).generator_loss(x).backward()
        grads[name] = x.grad.item()
    d = sigmoid(logit)
    assert grads["minimax"] == pytest.approx(-0.5 * d, rel=1e-5)
    assert grads["non-saturating"] == pytest.approx(-0.5 * (1 - d), rel=1e-5)
    assert grads["maximum-likelihood"] == pytest.approx(-0.5 * math.exp(logit), rel=1e-5)
    # The minimax game saturates when D wins; the non-saturating loss keeps a strong gradient.
    assert abs(grads["minimax"]) < 0.01 * abs(grads["non-saturating"])


def test_losses_are_finite_in_bfloat16_for_extreme_logits():
    logits = torch.tensor([-80.0, 80.0], dtype=torch.bfloat16)
    for name in ("minimax", "non-saturating"):
        objective = get_objective(name)
        assert torch.isfinite(objective.generator_loss(logits))
        assert torch.isfinite(objective.discriminator_loss(logits, logits))


def test_unknown_objective_names_the_choices():
    with pytest.raises(UnknownNameError, match="non-saturating"):
        get_objective("wasserstein-typo")
