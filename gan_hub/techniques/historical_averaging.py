"""Historical averaging (Salimans et al., 2016, "Improved Techniques for Training GANs", sec. 3.3)."""

from __future__ import annotations

import torch
from torch import nn

from ..game import Batch, StepContext, Technique
from ._common import number, parse_options
from .setup import TECHNIQUES, TechniqueSetup

DEFAULT_WEIGHT = 1e-4


class _ParameterAverage:
    """The running mean of all past values of one network's parameters, the initial ones included."""

    def __init__(self):
        self.averages: list[torch.Tensor] = []
        self.count = 0

    def reset(self, module: nn.Module) -> None:
        self.averages = [p.detach().float().clone() for p in module.parameters()]
        self.count = 1

    def _aligned(self, module: nn.Module, player: str) -> list[tuple[nn.Parameter, torch.Tensor]]:
        params = list(module.parameters())
        if len(params) != len(self.averages):
            raise RuntimeError(
                f"historical averaging: {player} has {len(params)} parameter tensors but "
                f"{len(self.averages)} averages; was setup() called with this network?"
            )
        for i, p in enumerate(params):
            if self.averages[i].device != p.device:  # the networks move to the device after setup
                self.averages[i] = self.averages[i].to(p.device)
        return list(zip(params, self.averages))

    def penalty(self, module: nn.Module, player: str) -> torch.Tensor:
        return sum(((p.float() - avg) ** 2).sum() for p, avg in self._aligned(module, player))

    def update(self, module: nn.Module, player: str) -> None:
        pairs = self._aligned(module, player)
        self.count += 1
        with torch.no_grad():
            for p, avg in pairs:
                avg.lerp_(p.detach().float(), 1.0 / self.count)

    def state_dict(self, prefix: str) -> dict[str, torch.Tensor]:
        state = {f"{prefix}.{i}": avg.detach().cpu().clone() for i, avg in enumerate(self.averages)}
        state[f"{prefix}.count"] = torch.tensor(self.count, dtype=torch.int64)
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor], prefix: str) -> None:
        if f"{prefix}.count" not in state:
            return
        n = sum(1 for k in state if k.startswith(prefix + ".") and k != f"{prefix}.count")
        if self.averages and n != len(self.averages):
            raise ValueError(
                f"historical averaging: checkpoint has {n} {prefix} averages, the network has {len(self.averages)}"
            )
        devices = [avg.device for avg in self.averages] or [torch.device("cpu")] * n
        self.averages = [state[f"{prefix}.{i}"].float().to(devices[i]).clone() for i in range(n)]
        self.count = int(state[f"{prefix}.count"])


class HistoricalAveraging(Technique):
    """Adds weight * ||theta - mean of past theta||^2 to each player's loss.

    The mean covers every value the player's parameters have taken: the initial ones (``setup``) and
    those after each of its optimizer steps (``after_d_step`` / ``after_g_step``), so the term is zero
    right after setup and pulls each player back toward its own history, damping oscillations.
    """

    name = "historical_averaging"

    def __init__(self, weight: float = DEFAULT_WEIGHT):
        self.weight = weight
        self.d_average, self.g_average = _ParameterAverage(), _ParameterAverage()

    def setup(self, generator, discriminator) -> None:
        self.g_average.reset(generator)
        self.d_average.reset(discriminator)

    def d_penalty(self, batch: Batch):
        return self.weight * self.d_average.penalty(batch.discriminator, "D")

    def g_penalty(self, batch: Batch):
        return self.weight * self.g_average.penalty(batch.generator, "G")

    def after_d_step(self, discriminator, ctx: StepContext) -> None:
        self.d_average.update(discriminator, "D")

    def after_g_step(self, generator, ctx: StepContext) -> None:
        self.g_average.update(generator, "G")

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {**self.d_average.state_dict("d"), **self.g_average.state_dict("g")}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.d_average.load_state_dict(state, "d")
        self.g_average.load_state_dict(state, "g")


@TECHNIQUES.register("historical_averaging")
def historical_averaging(options, setup: TechniqueSetup) -> None:
    """Historical averaging: each player is pulled toward the mean of its past parameters (Salimans et al., 2016).

    Options: ``weight`` (default 1e-4; a bare number sets it). The paper gives no value. The term is
    a sum over every parameter (millions for a DCGAN), and the all-time mean lags far behind late in
    training, so the default is kept small: with Adam the per-parameter pull 2 * weight * (theta - mean)
    stays below typical adversarial gradients until a parameter has drifted by ~0.1.
    """
    opts = parse_options("historical_averaging", options, {"weight": DEFAULT_WEIGHT}, shorthand="weight")
    setup.techniques.append(HistoricalAveraging(number("historical_averaging", "weight", opts["weight"], 0.0)))
