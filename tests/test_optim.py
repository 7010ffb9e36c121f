"""The optimizers a run can name: torch's, and Adam with eps under the square root (the Improved-GAN
authors' Adam, which the semi-supervised variant trains with)."""

import pytest
import torch

from gan_hub.optim import OPTIMIZERS, AdamEpsInSqrt, build_optimizer
from gan_hub.variants import get_variant


def _steps(optimizer_a, param_a, optimizer_b, param_b, grads, lrs):
    for grad, lr in zip(grads, lrs):
        for optimizer in (optimizer_a, optimizer_b):
            for group in optimizer.param_groups:
                group["lr"] = lr  # the trainer's learning-rate decay writes the groups' lr like this
        param_a.grad, param_b.grad = grad.clone(), grad.clone()
        optimizer_a.step()
        optimizer_b.step()


def test_without_eps_it_is_torch_adam():
    torch.manual_seed(0)
    ours = torch.randn(40, 30, dtype=torch.float64, requires_grad=True)
    theirs = ours.detach().clone().requires_grad_(True)
    grads = [torch.randn(40, 30, dtype=torch.float64) * 10.0**-k for k in range(8)]
    _steps(
        AdamEpsInSqrt([ours], lr=1e-2, betas=(0.5, 0.999), eps=0.0),
        ours,
        torch.optim.Adam([theirs], lr=1e-2, betas=(0.5, 0.999), eps=0.0),
        theirs,
        grads,
        [1e-2] * 4 + [5e-3] * 4,
    )
    torch.testing.assert_close(ours, theirs, rtol=1e-12, atol=1e-12)


def test_each_step_is_lr_times_mean_over_root_of_square_plus_eps():
    lr, (beta1, beta2), eps = 0.003, (0.5, 0.999), 1e-8
    param = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    optimizer = AdamEpsInSqrt([param], lr=lr, betas=(beta1, beta2))
    mean = square = torch.zeros(4, dtype=torch.float64)
    expected = torch.zeros(4, dtype=torch.float64)
    for t, scale in enumerate((1e-6, 3e-5, 1e-4, 1.0), start=1):
        grad = torch.tensor([1.0, -2.0, 0.5, 4.0], dtype=torch.float64) * scale
        mean = beta1 * mean + (1 - beta1) * grad
        square = beta2 * square + (1 - beta2) * grad**2
        expected -= lr * (mean / (1 - beta1**t)) / torch.sqrt(square / (1 - beta2**t) + eps)
        param.grad = grad
        optimizer.step()
        torch.testing.assert_close(param.detach(), expected, rtol=1e-9, atol=1e-15)


def test_small_gradients_take_small_steps_where_torch_adam_takes_full_ones():
    # A gradient of 1e-6 moves a parameter by lr with torch's Adam but by about lr/100 with eps inside the
    # root: the difference the semi-supervised discriminator's weight-normed directions feel.
    ours = torch.zeros(1, requires_grad=True)
    theirs = torch.zeros(1, requires_grad=True)
    _steps(
        AdamEpsInSqrt([ours], lr=0.1),
        ours,
        torch.optim.Adam([theirs], lr=0.1),
        theirs,
        [torch.tensor([1e-6])],
        [0.1],
    )
    assert theirs.item() == pytest.approx(-0.1 * 1e-6 / (1e-6 + 1e-8), rel=1e-3)  # about lr
    assert ours.item() == pytest.approx(-0.1 * 1e-6 / (1e-12 + 1e-8) ** 0.5, rel=1e-3)


def test_a_reloaded_state_continues_exactly():
    torch.manual_seed(1)
    grads = [torch.randn(5, 3) for _ in range(6)]
    straight = torch.randn(5, 3, requires_grad=True)
    start = straight.detach().clone()
    optimizer = AdamEpsInSqrt([straight], lr=1e-2)
    for grad in grads:
        straight.grad = grad.clone()
        optimizer.step()

    resumed = start.clone().requires_grad_(True)
    first = AdamEpsInSqrt([resumed], lr=1e-2)
    for grad in grads[:3]:
        resumed.grad = grad.clone()
        first.step()
    second = AdamEpsInSqrt([resumed], lr=1e-2)
    second.load_state_dict(first.state_dict())
    for grad in grads[3:]:
        resumed.grad = grad.clone()
        second.step()
    assert torch.equal(resumed, straight)
    assert set(second.state[resumed]) == {"step", "exp_avg", "exp_avg_sq"}  # torch Adam's keys


def test_parameters_without_a_gradient_are_left_alone():
    moved, idle = torch.ones(2, requires_grad=True), torch.ones(2, requires_grad=True)
    optimizer = AdamEpsInSqrt([moved, idle], lr=0.1)
    moved.grad = torch.ones(2)
    optimizer.step()
    assert torch.equal(idle, torch.ones(2)) and idle not in optimizer.state
    assert (moved < 1).all()


def test_every_named_optimizer_builds_and_unknown_names_list_them():
    param = torch.zeros(2, requires_grad=True)
    kinds = {kind: type(build_optimizer(kind, [param], 1e-3, (0.5, 0.999))) for kind in OPTIMIZERS}
    assert kinds == {"adam": torch.optim.Adam, "adam-eps-in-sqrt": AdamEpsInSqrt, "rmsprop": torch.optim.RMSprop}
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'; use one of: adam, adam-eps-in-sqrt, rmsprop"):
        build_optimizer("sgd", [param], 1e-3, (0.5, 0.999))
    with pytest.raises(ValueError, match="invalid Adam settings"):
        AdamEpsInSqrt([param], lr=0.0)


def test_the_semi_supervised_variant_trains_with_the_authors_adam():
    assert get_variant("semi-supervised").optimizer_spec.kind == "adam-eps-in-sqrt"
    assert get_variant("improved-gan").optimizer_spec.kind == "adam"  # the others keep torch's


def test_the_optimizer_bench_prints_both_networks_with_a_ratio(capsys):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import optimizer_step

    threads = torch.get_num_threads()
    try:
        assert optimizer_step.main(["--steps", "2", "--rounds", "1"]) == 0
    finally:
        torch.set_num_threads(threads)
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith(("| D |", "| G |"))]
    assert [row.split(" | ")[1] for row in rows] == ["1.54 M", "0.70 M"]  # the semi-supervised MNIST networks
    assert all(row.endswith("x |") for row in rows)
