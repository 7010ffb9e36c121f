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


@pytest.mark.parametrize(
    "name, per_sample",
    [
        ("minimax", lambda x: 0.5 * math.log(1 - sigmoid(x))),
        ("non-saturating", lambda x: -0.5 * math.log(sigmoid(x))),
        ("maximum-likelihood", lambda x: -0.5 * math.exp(x)),  # -1/2 exp(sigmoid^-1(D)) and sigmoid^-1(D) is the logit
    ],
)
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


# ---------------------------------------------------------------------------------------------
# Every registered objective: values on fixed logits against the paper formulas, written out here
# with plain math (never through the package's helpers).
# ---------------------------------------------------------------------------------------------
from gan_hub.objectives import bce_discriminator_loss, least_squares, one_sided_label_smoothing  # noqa: E402
from gan_hub.registry import OBJECTIVES  # noqa: E402

R = [1.0, -0.5, 2.0]
FK = [-1.0, 0.3, 0.0]
LOG2 = math.log(2.0)

BCE_FAMILY = ["minimax", "non-saturating", "maximum-likelihood"]
RELATIVISTIC = ["relativistic-standard", "relativistic-average", "relativistic-average-ls"]
FGAN = ["fgan-kl", "fgan-reverse-kl", "fgan-pearson", "fgan-hellinger", "fgan-js"]
ALL_NAMES = BCE_FAMILY + ["least-squares", "wasserstein", "hinge"] + FGAN + RELATIVISTIC


def mean(xs) -> float:
    xs = list(xs)
    return sum(xs) / len(xs)


def bce_d(r, f) -> float:
    return 0.5 * mean(-math.log(sigmoid(x)) for x in r) + 0.5 * mean(-math.log(1 - sigmoid(x)) for x in f)


# f-GAN, the paper's Table 2 taken literally: output activation g_f and conjugate f*.
FGAN_TABLE = {
    "fgan-kl": (lambda v: v, lambda t: math.exp(t - 1)),
    "fgan-reverse-kl": (lambda v: -math.exp(-v), lambda t: -1 - math.log(-t)),
    "fgan-pearson": (lambda v: v, lambda t: t * t / 4 + t),
    "fgan-hellinger": (lambda v: 1 - math.exp(-v), lambda t: t / (1 - t)),
    "fgan-js": (lambda v: LOG2 - math.log(1 + math.exp(-v)), lambda t: -math.log(2 - math.exp(t))),
}


def fgan_d(name, r, f) -> float:
    g, conj = FGAN_TABLE[name]
    return -(mean(g(v) for v in r) - mean(conj(g(v)) for v in f))  # D maximises F


def fgan_g(name, f) -> float:
    g, _ = FGAN_TABLE[name]
    return -mean(g(v) for v in f)


def ragan(high, low) -> float:
    mh, ml = mean(high), mean(low)
    return mean(-math.log(sigmoid(x - ml)) for x in high) + mean(-math.log(1 - sigmoid(x - mh)) for x in low)


def ralsgan(high, low) -> float:
    mh, ml = mean(high), mean(low)
    return mean((x - ml - 1) ** 2 for x in high) + mean((x - mh + 1) ** 2 for x in low)


EXPECTED = {  # name -> (D loss(real, fake), G loss(fake, real))
    "minimax": (bce_d, lambda f, r: mean(0.5 * math.log(1 - sigmoid(x)) for x in f)),
    "non-saturating": (bce_d, lambda f, r: mean(-0.5 * math.log(sigmoid(x)) for x in f)),
    "maximum-likelihood": (bce_d, lambda f, r: mean(-0.5 * math.exp(x) for x in f)),
    "least-squares": (
        lambda r, f: 0.5 * mean((x - 1) ** 2 for x in r) + 0.5 * mean(x**2 for x in f),
        lambda f, r: 0.5 * mean((x - 1) ** 2 for x in f),
    ),
    "wasserstein": (lambda r, f: mean(f) - mean(r), lambda f, r: -mean(f)),
    "hinge": (lambda r, f: mean(max(0.0, 1 - x) for x in r) + mean(max(0.0, 1 + x) for x in f), lambda f, r: -mean(f)),
    **{name: ((lambda r, f, n=name: fgan_d(n, r, f)), (lambda f, r, n=name: fgan_g(n, f))) for name in FGAN},
    "relativistic-standard": (
        lambda r, f: mean(-math.log(sigmoid(a - b)) for a, b in zip(r, f)),
        lambda f, r: mean(-math.log(sigmoid(a - b)) for a, b in zip(f, r)),
    ),
    "relativistic-average": (lambda r, f: ragan(r, f), lambda f, r: ragan(f, r)),
    "relativistic-average-ls": (lambda r, f: ralsgan(r, f), lambda f, r: ralsgan(f, r)),
}


def test_expected_table_covers_every_name():
    assert sorted(EXPECTED) == sorted(ALL_NAMES)


def test_every_objective_is_registered_with_summary_and_paper():
    names = OBJECTIVES.names()
    assert set(ALL_NAMES) <= set(names)
    for name in names:
        objective = get_objective(name)
        assert objective.name == name
        assert objective.summary and "\n" not in objective.summary
        assert "arXiv:" in objective.paper and any(str(y) in objective.paper for y in range(2014, 2019))


@pytest.mark.parametrize("name", ALL_NAMES)
def test_losses_on_fixed_logits_match_hand_computed_values(name):
    objective = get_objective(name)
    d_expected, g_expected = EXPECTED[name]
    d = objective.discriminator_loss(torch.tensor(R), torch.tensor(FK))
    g = objective.generator_loss(torch.tensor(FK), torch.tensor(R))
    assert d.dim() == 0 and g.dim() == 0
    assert d.item() == pytest.approx(d_expected(R, FK), rel=1e-5, abs=1e-6)
    assert g.item() == pytest.approx(g_expected(FK, R), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("name", sorted(set(ALL_NAMES) - set(RELATIVISTIC)))
def test_non_relativistic_generator_losses_ignore_real_logits(name):
    objective = get_objective(name)
    assert not objective.uses_real_logits_in_generator
    fake = torch.tensor(FK)
    without = objective.generator_loss(fake)
    assert objective.generator_loss(fake, torch.tensor(R)).item() == without.item()
    assert objective.generator_loss(fake, None).item() == without.item()


@pytest.mark.parametrize("name", RELATIVISTIC)
def test_relativistic_generator_losses_need_real_logits(name):
    objective = get_objective(name)
    assert objective.uses_real_logits_in_generator
    with pytest.raises(ValueError, match="real"):
        objective.generator_loss(torch.tensor(FK))
    with pytest.raises(ValueError, match="real"):
        objective.generator_loss(torch.tensor(FK), None)


def test_relativistic_standard_needs_paired_batches():
    objective = get_objective("relativistic-standard")
    with pytest.raises(ValueError, match="shape"):
        objective.discriminator_loss(torch.tensor(R), torch.tensor(FK[:2]))


# Logits where every objective's D still wants real higher and fake lower, and G wants fake higher:
# below LSGAN's real code b = 1 and hinge's margin, above LSGAN's fake code a = 0 and hinge's -1,
# and above -2 where Pearson's f*(g(v)) = v^2/4 + v turns.
SIGN_REAL = [-0.5, 0.2, 0.5]
SIGN_FAKE = [0.05, 0.1, 0.6]


def grads(objective, real, fake):
    real = torch.tensor(real, requires_grad=True)
    fake = torch.tensor(fake, requires_grad=True)
    objective.discriminator_loss(real, fake).backward()
    d_real, d_fake = real.grad.clone(), fake.grad.clone()
    real.grad = fake.grad = None
    objective.generator_loss(fake, real).backward()
    return d_real, d_fake, fake.grad, real.grad


@pytest.mark.parametrize("name", ALL_NAMES)
def test_gradient_signs(name):
    """D raises real scores and lowers fake ones; G raises fake scores (f-GAN: on V, before g_f)."""
    d_real, d_fake, g_fake, g_real = grads(get_objective(name), SIGN_REAL, SIGN_FAKE)
    assert (d_real < 0).all(), d_real
    assert (d_fake > 0).all(), d_fake
    assert (g_fake < 0).all(), g_fake
    if name in RELATIVISTIC:  # G also profits from real scores dropping relative to fake
        assert (g_real > 0).all(), g_real
    else:
        assert g_real is None


def test_least_squares_gradients_pull_towards_the_codes():
    """LSGAN is not monotone: D pushes a real score above b = 1 back down, a fake one below a = 0 up."""
    d_real, d_fake, g_fake, _ = grads(get_objective("least-squares"), R, FK)
    n = len(R)
    assert d_real.tolist() == pytest.approx([(x - 1) / n for x in R])
    assert d_fake.tolist() == pytest.approx([x / n for x in FK])
    assert g_fake.tolist() == pytest.approx([(x - 1) / n for x in FK])
    assert d_real[2] > 0 and d_fake[0] < 0


def test_least_squares_factory_with_the_papers_chi2_coding():
    objective = least_squares(a=-1.0, b=1.0, c=0.0)
    assert objective.name != "least-squares"
    d = objective.discriminator_loss(torch.tensor(R), torch.tensor(FK)).item()
    g = objective.generator_loss(torch.tensor(FK)).item()
    assert d == pytest.approx(0.5 * mean((x - 1) ** 2 for x in R) + 0.5 * mean((x + 1) ** 2 for x in FK), rel=1e-6)
    assert g == pytest.approx(0.5 * mean(x**2 for x in FK), rel=1e-6, abs=1e-7)


def test_hinge_is_flat_beyond_the_margins():
    d_real, d_fake, _, _ = grads(get_objective("hinge"), [1.5, 0.5], [-1.5, -0.5])
    assert d_real.tolist() == pytest.approx([0.0, -0.5])
    assert d_fake.tolist() == pytest.approx([0.0, 0.5])


@pytest.mark.parametrize("name", FGAN)
def test_fgan_generator_gradient_is_minus_the_activation_slope(name):
    g, _ = FGAN_TABLE[name]
    _, _, g_fake, _ = grads(get_objective(name), R, FK)
    h = 1e-6
    slopes = [(g(v + h) - g(v - h)) / (2 * h) for v in FK]
    assert g_fake.tolist() == pytest.approx([-s / len(FK) for s in slopes], rel=1e-4)


@pytest.mark.parametrize("name", ALL_NAMES)
def test_losses_and_gradients_are_finite_for_large_logits_in_fp32(name):
    big = [-50.0, -40.0, 0.0, 40.0, 50.0]
    for real, fake in ((big, big[::-1]), (big, big)):
        d_real, d_fake, g_fake, g_real = grads(get_objective(name), real, fake)
        objective = get_objective(name)
        d = objective.discriminator_loss(torch.tensor(real), torch.tensor(fake))
        g = objective.generator_loss(torch.tensor(fake), torch.tensor(real))
        assert d.dtype == g.dtype == torch.float32
        assert torch.isfinite(d) and torch.isfinite(g), (d, g)
        for grad in (d_real, d_fake, g_fake) + ((g_real,) if g_real is not None else ()):
            assert torch.isfinite(grad).all(), grad


@pytest.mark.parametrize(
    "name, expected_at_zero, expected_at_two",
    [
        ("non-saturating", 0.5, sigmoid(2.0)),
        ("relativistic-average", 0.5, sigmoid(2.0)),
        ("wasserstein", 0.0, 2.0),
        ("hinge", 0.0, 2.0),
        ("least-squares", 0.0, 2.0),
        ("relativistic-average-ls", 0.0, 2.0),
        ("fgan-kl", 0.0, 2.0),
        ("fgan-reverse-kl", -1.0, -math.exp(-2.0)),
        ("fgan-hellinger", 0.0, 1 - math.exp(-2.0)),
        ("fgan-js", 0.0, LOG2 - math.log(1 + math.exp(-2.0))),
    ],
)
def test_probability_display(name, expected_at_zero, expected_at_two):
    shown = get_objective(name).probability(torch.tensor([0.0, 2.0])).tolist()
    assert shown == pytest.approx([expected_at_zero, expected_at_two], rel=1e-6, abs=1e-7)


def smoothed_bce_d(r, f, target) -> float:
    real = mean(-(target * math.log(sigmoid(x)) + (1 - target) * math.log(1 - sigmoid(x))) for x in r)
    return 0.5 * real + 0.5 * mean(-math.log(1 - sigmoid(x)) for x in f)


def test_bce_discriminator_loss_with_soft_real_target():
    loss = bce_discriminator_loss(torch.tensor(R), torch.tensor(FK), real_target=0.9)
    assert loss.item() == pytest.approx(smoothed_bce_d(R, FK, 0.9), rel=1e-6)
    assert loss.item() != pytest.approx(bce_d(R, FK), rel=1e-3)
    # Default target 1 keeps the plain cross-entropy.
    assert bce_discriminator_loss(torch.tensor(R), torch.tensor(FK)).item() == pytest.approx(bce_d(R, FK), rel=1e-6)


@pytest.mark.parametrize("name", BCE_FAMILY)
def test_one_sided_label_smoothing(name):
    base = get_objective(name)
    smoothed = one_sided_label_smoothing(base, 0.9)
    assert smoothed.name == f"{name}+ls0.9"
    assert "arXiv:1606.03498" in smoothed.paper
    d = smoothed.discriminator_loss(torch.tensor(R), torch.tensor(FK))
    assert d.item() == pytest.approx(smoothed_bce_d(R, FK, 0.9), rel=1e-6)
    # Only D's real target changes.
    assert smoothed.generator_loss(torch.tensor(FK)).item() == base.generator_loss(torch.tensor(FK)).item()
    by_name = get_objective(f"{name}+ls0.9")
    assert by_name.name == smoothed.name
    assert by_name.discriminator_loss(torch.tensor(R), torch.tensor(FK)).item() == pytest.approx(d.item())


@pytest.mark.parametrize("name", ["wasserstein", "hinge", "least-squares", "fgan-js", "relativistic-standard"])
def test_label_smoothing_rejects_non_bce_objectives(name):
    with pytest.raises(ValueError, match="cross-entropy"):
        one_sided_label_smoothing(get_objective(name), 0.9)


def test_label_smoothing_rejects_bad_targets():
    with pytest.raises(ValueError, match="target"):
        one_sided_label_smoothing(get_objective("non-saturating"), 1.5)
    with pytest.raises(ValueError, match="number"):
        get_objective("non-saturating+lsabc")
