"""Unrolled GAN: the generator's gradient goes through k differentiable discriminator updates.

Checked on a tiny double-precision game against central finite differences of the whole unrolled loss."""

import pytest
import torch
from torch import nn

from gan_hub.objectives import get_objective
from gan_hub.variants import get_variant
from gan_hub.variants.base import AdversarialAlgorithm, StepContext
from gan_hub.variants.inner_optim import AdamUnroll, SGDUnroll
from gan_hub.variants.unrolled import UnrolledAlgorithm, unroll_discriminator

CTX = StepContext(step=0, max_steps=1)


class LinearGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 2)

    def forward(self, z, labels=None):
        return self.linear(z)


class TinyDiscriminator(nn.Module):
    """A smooth MLP (tanh), so finite differences see no kinks; optional batch norm to check buffers."""

    def __init__(self, batch_norm: bool = False):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 5), *([nn.BatchNorm1d(5)] if batch_norm else []), nn.Tanh())
        self.head = nn.Linear(5, 1)

    def forward(self, x, labels=None):
        return self.head(self.body(x)).squeeze(1)


def tiny_game(seed: int = 0, batch_norm: bool = False, dtype=torch.float64):
    torch.manual_seed(seed)
    g, d = LinearGenerator().to(dtype), TinyDiscriminator(batch_norm).to(dtype)
    z, real = torch.randn(8, 2, dtype=dtype), torch.randn(8, 2, dtype=dtype) + 1.0
    return g, d.requires_grad_(False), z, real  # the trainer freezes D during the G step


def g_gradient(algorithm, g, d, z, real) -> torch.Tensor:
    g.zero_grad(set_to_none=True)
    loss, _ = algorithm.generator_loss(g, d, z, None, real, CTX)
    loss.backward()
    return torch.cat([p.grad.flatten() for p in g.parameters()])


def unrolled_loss_value(algorithm, g, d, z, real) -> float:
    return algorithm.generator_loss(g, d, z, None, real, CTX)[0].item()


def trained_adam(d, real, fake, steps: int = 3, lr: float = 0.05) -> torch.optim.Adam:
    """An Adam optimizer of ``d`` with moments from ``steps`` real updates (d's parameters move too)."""
    d.requires_grad_(True)
    opt = torch.optim.Adam(d.parameters(), lr=lr, betas=(0.8, 0.999))
    objective = get_objective("non-saturating")
    for _ in range(steps):
        opt.zero_grad()
        objective.discriminator_loss(d(real), d(fake)).backward()
        opt.step()
    opt.zero_grad(set_to_none=True)
    d.requires_grad_(False)
    return opt


def bound(algorithm, g, d, z, real):
    algorithm.bind_optimizers(None, trained_adam(d, real, g(z).detach()))
    return algorithm


@pytest.mark.parametrize(
    "objective, inner",
    [("non-saturating", "sgd"), ("relativistic-average", "sgd"), ("non-saturating", "adam"), ("minimax", "adam")],
)
def test_gradient_through_the_unroll_matches_finite_differences(objective, inner):
    g, d, z, real = tiny_game()
    algorithm = UnrolledAlgorithm(get_objective(objective), unroll_steps=3, unroll_lr=0.5, unroll_optimizer=inner)
    if inner == "adam":
        bound(algorithm, g, d, z, real)
    analytic = g_gradient(algorithm, g, d, z, real)
    numeric, eps = [], 1e-5
    with torch.no_grad():
        for p in g.parameters():
            for i in range(p.numel()):
                flat = p.view(-1)
                flat[i] += eps
                with torch.enable_grad():
                    up = unrolled_loss_value(algorithm, g, d, z, real)
                flat[i] -= 2 * eps
                with torch.enable_grad():
                    down = unrolled_loss_value(algorithm, g, d, z, real)
                flat[i] += eps
                numeric.append((up - down) / (2 * eps))
    torch.testing.assert_close(analytic, torch.tensor(numeric, dtype=torch.float64), rtol=1e-4, atol=1e-9)


def test_unrolling_changes_the_generator_gradient():
    g, d, z, real = tiny_game()
    objective = get_objective("non-saturating")
    plain = g_gradient(UnrolledAlgorithm(objective, unroll_steps=0), g, d, z, real)
    sgd = g_gradient(UnrolledAlgorithm(objective, unroll_steps=3, unroll_lr=0.5, unroll_optimizer="sgd"), g, d, z, real)
    adam = g_gradient(bound(UnrolledAlgorithm(objective, unroll_steps=3), g, d, z, real), g, d, z, real)
    for unrolled in (sgd, adam):
        assert (unrolled - plain).abs().max() > 1e-3 * plain.abs().max()


def test_zero_unroll_steps_is_the_plain_adversarial_gradient():
    g, d, z, real = tiny_game(dtype=torch.float32)  # the base algorithm computes its losses in float32
    objective = get_objective("non-saturating")
    plain = g_gradient(AdversarialAlgorithm(objective), g, d, z, real)
    unrolled = g_gradient(UnrolledAlgorithm(objective, unroll_steps=0), g, d, z, real)
    torch.testing.assert_close(unrolled, plain, rtol=1e-6, atol=1e-9)


def test_unrolled_state_is_plain_gradient_descent_on_the_discriminator_loss():
    g, d, z, real = tiny_game()
    objective, lr = get_objective("non-saturating"), 0.3
    fake = g(z).detach()
    state = unroll_discriminator(d, objective, real, fake, None, steps=2, inner=SGDUnroll(lr))
    manual = TinyDiscriminator().double()
    manual.load_state_dict(d.state_dict())
    for _ in range(2):
        manual.zero_grad()
        objective.discriminator_loss(manual(real), manual(fake)).backward()
        with torch.no_grad():
            for p in manual.parameters():
                p -= lr * p.grad
    for name, p in manual.named_parameters():
        torch.testing.assert_close(state[name].detach(), p.detach())


def test_adam_unroll_is_what_the_real_adam_would_do_next():
    """k unrolled steps from D's optimizer equal k more steps of that torch.optim.Adam, moments included."""
    g, d, z, real = tiny_game()
    objective, fake = get_objective("non-saturating"), g(z).detach()
    opt = trained_adam(d, real, fake, steps=4)
    state = unroll_discriminator(
        d, objective, real, fake, None, steps=3, inner=AdamUnroll(opt, dict(d.named_parameters()))
    )
    manual = TinyDiscriminator().double()
    manual.load_state_dict(d.state_dict())
    manual_opt = torch.optim.Adam(manual.parameters(), lr=0.05, betas=(0.8, 0.999))
    manual_opt.load_state_dict(opt.state_dict())
    for _ in range(3):
        manual_opt.zero_grad()
        objective.discriminator_loss(manual(real), manual(fake)).backward()
        manual_opt.step()
    for name, p in manual.named_parameters():
        torch.testing.assert_close(state[name].detach(), p.detach())


def test_adam_unroll_survives_parameters_without_gradient():
    """A weight whose gradient was always 0 (an unused maxout piece) has v = 0: no NaN in G's gradient."""
    g, _, z, real = tiny_game()
    torch.manual_seed(1)
    d = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 1), nn.Flatten(0)).double()
    with torch.no_grad():  # hidden unit 0 is dead (pre-activation -1 everywhere): its weights get 0 gradient
        d[0].weight[0].zero_()
        d[0].bias[0] = -1.0
    d.forward = lambda x, labels=None, _f=d.forward: _f(x)
    d.requires_grad_(False)
    algorithm = bound(UnrolledAlgorithm(get_objective("non-saturating"), unroll_steps=3), g, d, z, real)
    assert torch.isfinite(g_gradient(algorithm, g, d, z, real)).all()


def test_adam_unroll_needs_the_optimizer():
    g, d, z, real = tiny_game()
    with pytest.raises(RuntimeError, match="bind_optimizers"):
        g_gradient(UnrolledAlgorithm(get_objective("non-saturating")), g, d, z, real)
    with pytest.raises(ValueError, match="unroll_optimizer"):
        UnrolledAlgorithm(get_objective("non-saturating"), unroll_optimizer="rmsprop")
    with pytest.raises(ValueError, match="torch.optim.Adam"):
        AdamUnroll(torch.optim.SGD(d.parameters(), lr=0.1), dict(d.named_parameters()))


def test_players_hand_the_discriminator_optimizer_to_the_algorithm():
    from train.step import Players

    g, d, _, _ = tiny_game()
    algorithm = UnrolledAlgorithm(get_objective("non-saturating"))
    opt_g, opt_d = torch.optim.Adam(g.parameters()), torch.optim.Adam(d.parameters())
    Players(g, d, opt_g, opt_d, algorithm)
    assert algorithm.d_optimizer is opt_d


@pytest.mark.parametrize("inner", ["sgd", "adam"])
def test_the_real_discriminator_is_untouched(inner):
    g, d, z, real = tiny_game(batch_norm=True)
    d.train()
    algorithm = UnrolledAlgorithm(
        get_objective("non-saturating"), unroll_steps=4, unroll_lr=0.5, unroll_optimizer=inner
    )
    if inner == "adam":
        bound(algorithm, g, d, z, real)
    before = {k: v.clone() for k, v in d.state_dict().items()}
    moments = [v.clone() for s in algorithm.d_optimizer.state.values() for v in s.values()] if inner == "adam" else []
    g_gradient(algorithm, g, d, z, real)
    after = d.state_dict()
    for name, value in before.items():  # parameters and batch-norm running statistics alike
        assert torch.equal(after[name], value), name
    assert all(p.grad is None and not p.requires_grad for p in d.parameters())
    if inner == "adam":  # the optimizer's moments and step count stay where D's own updates left them
        now = [v for s in algorithm.d_optimizer.state.values() for v in s.values()]
        assert len(now) == len(moments) and all(torch.equal(a, b) for a, b in zip(now, moments))


def test_registered_variant_and_option_checks():
    spec = get_variant("unrolled")
    assert spec.arch == "dcgan" and spec.arch_kwargs.get("d_norm") == "none" and "arXiv:1611.02163" in spec.paper
    algorithm = spec.build_algorithm(get_objective(spec.objective), [])
    assert isinstance(algorithm, UnrolledAlgorithm) and algorithm.unroll_steps == 5
    assert algorithm.unroll_optimizer == "adam"
    with pytest.raises(ValueError, match="unroll_steps"):
        UnrolledAlgorithm(get_objective("non-saturating"), unroll_steps=-1)
    from gan_hub.techniques import configure

    setup = configure({"feature_matching": True}, get_objective("non-saturating"))
    with pytest.raises(ValueError, match="feature_matching"):
        spec.build_algorithm(setup.objective, setup.techniques)


@pytest.mark.parametrize(
    "arch, shape",
    [
        ("mlp", {"image_size": 0, "channels": 2, "arch_kwargs": {"hidden_dim": 16}}),
        ("dcgan", {"image_size": 16, "channels": 1, "arch_kwargs": {"base_channels": 4, "d_norm": "none"}}),
    ],
)
def test_works_on_the_registered_architectures(arch, shape):
    from gan_hub.config import GeneratorConfig
    from gan_hub.hub import build_discriminator_network, build_generator_network

    torch.manual_seed(0)
    config = GeneratorConfig(variant="unrolled", arch=arch, latent_dim=4, **shape)
    g, d = build_generator_network(config), build_discriminator_network(config).requires_grad_(False)
    real = torch.randn(6, *((2,) if arch == "mlp" else (1, 16, 16)))
    algorithm = UnrolledAlgorithm(get_objective("non-saturating"), unroll_steps=2)
    algorithm.bind_optimizers(None, torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999)))  # fresh moments
    loss, logs = algorithm.generator_loss(g, d, torch.randn(6, 4), None, real, CTX)
    loss.backward()
    assert torch.isfinite(loss) and "g_loss" in logs
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in g.parameters())


@pytest.mark.parametrize("objective", ["minimax", "wasserstein"])
def test_zero_sum_games_unroll_the_whole_value_function(objective):
    """Metz et al.'s surrogate f(theta_G, theta_D^k(theta_G)): for a zero-sum objective G's loss is minus D's
    loss at the unrolled D, whose real term depends on G through the unroll (the authors' -unrolled_loss)."""
    g, d, z, real = tiny_game()
    game = get_objective(objective)
    assert game.zero_sum and not get_objective("non-saturating").zero_sum
    assert not get_objective("minimax+ls0.9").zero_sum
    algorithm = bound(UnrolledAlgorithm(game, unroll_steps=2), g, d, z, real)
    loss, _ = algorithm.generator_loss(g, d, z, None, real, CTX)
    fake = g(z)
    state = unroll_discriminator(
        d, game, real, fake, None, 2, AdamUnroll(algorithm.d_optimizer, dict(d.named_parameters()))
    )
    from torch.func import functional_call

    value = -game.discriminator_loss(functional_call(d, state, (real,)), functional_call(d, state, (fake,)))
    torch.testing.assert_close(loss, value)
    # the real term matters: G's gradient differs from the one of its fake term alone
    fake_only = game.generator_loss(functional_call(d, state, (fake,)))
    with_real = torch.autograd.grad(value, list(g.parameters()), retain_graph=True)
    without = torch.autograd.grad(fake_only, list(g.parameters()))
    assert max((a - b).abs().max() for a, b in zip(with_real, without)) > 1e-6
    # and with no unrolling the real term is free of G: the plain gradient
    plain = g_gradient(AdversarialAlgorithm(game), g, d, z, real)
    torch.testing.assert_close(g_gradient(UnrolledAlgorithm(game, unroll_steps=0), g, d, z, real), plain)
