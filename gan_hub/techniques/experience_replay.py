"""Experience replay of past fakes (Pfau & Vinyals, 2016; Shrivastava et al., 2017)."""

from __future__ import annotations

import torch

from ..game import REPLAYS_PAST_FAKES, Batch, Technique
from ..nn.conditioning import ProjectionHead
from ._common import OwnedRNG, integer, number, parse_options, unwrap
from .setup import TECHNIQUES, TechniqueSetup

DEFAULTS = {"size": 1000, "fraction": 0.5, "seed": 0}


class ExperienceReplay(Technique):
    """In the D step, the first ``round(fraction * n)`` fakes are swapped for fakes from past steps.

    The buffer holds up to ``size`` past fakes (this process's own). It fills in order; once full,
    each new fake overwrites a random slot, and only then does replay start (old fakes are drawn
    without replacement before the current batch is pushed). The batch keeps its size, so the
    algorithm passes D the labels as they are: replay therefore needs an unconditional D (a replayed
    fake's class is not known to ``d_inputs``), which ``setup`` checks. Buffer, fill count and the
    technique's own generator are saved in checkpoints.
    """

    name = "experience_replay"
    effects = frozenset({REPLAYS_PAST_FAKES})

    def __init__(self, size: int = 1000, fraction: float = 0.5, seed: int = 0):
        self.size, self.fraction = size, fraction
        self.rng = OwnedRNG(seed)
        self.buffer: torch.Tensor | None = None
        self.count = 0

    def setup(self, generator, discriminator) -> None:
        if any(isinstance(m, ProjectionHead) and m.embed is not None for m in unwrap(discriminator).modules()):
            raise ValueError(
                "experience_replay needs an unconditional discriminator: replayed fakes would be "
                "judged with the labels of the current batch"
            )

    @property
    def full(self) -> bool:
        return self.count >= self.size

    def _push(self, fakes: torch.Tensor) -> None:
        fakes = fakes.detach()[-self.size :]
        if self.buffer is None:
            self.buffer = fakes.new_empty((self.size, *fakes.shape[1:]))
        elif self.buffer.shape[1:] != fakes.shape[1:]:
            raise ValueError(
                f"experience replay: fakes of shape {tuple(fakes.shape[1:])} do not match the "
                f"buffer's {tuple(self.buffer.shape[1:])}"
            )
        if self.buffer.device != fakes.device:
            self.buffer = self.buffer.to(fakes.device)
        fill = min(self.size - self.count, len(fakes))
        if fill:
            self.buffer[self.count : self.count + fill] = fakes[:fill]
            self.count += fill
        rest = fakes[fill:]
        if len(rest):
            slots = torch.randperm(self.size, generator=self.rng.generator)[: len(rest)]
            self.buffer[slots.to(self.buffer.device)] = rest.to(self.buffer.dtype)

    def d_inputs(self, batch: Batch, real, fake):
        replayed = min(len(fake), round(self.fraction * len(fake)))
        out = fake
        if self.full and replayed > 0:
            g = self.rng.generator
            picks = (
                torch.randperm(self.size, generator=g)[:replayed]
                if replayed <= self.size
                else torch.randint(self.size, (replayed,), generator=g)
            )
            old = self.buffer[picks.to(self.buffer.device)].to(fake.device, fake.dtype)
            out = torch.cat([old, fake[replayed:]])
        self._push(fake)
        return real, out

    def state_dict(self) -> dict[str, torch.Tensor]:
        state = {"rng": self.rng.get_state(), "count": torch.tensor(self.count, dtype=torch.int64)}
        if self.buffer is not None and self.count:
            state["buffer"] = self.buffer[: self.count].detach().cpu().clone()
        return state

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        if "rng" in state:
            self.rng.set_state(state["rng"])
        if "count" in state:
            self.count = int(state["count"])
            saved = state.get("buffer")
            if saved is None or self.count == 0:
                self.buffer, self.count = None, 0
                return
            if len(saved) != self.count or self.count > self.size:
                raise ValueError(
                    f"experience replay: checkpoint buffer holds {len(saved)} fakes (count {self.count}), "
                    f"this run's size is {self.size}"
                )
            device = self.buffer.device if self.buffer is not None else saved.device
            self.buffer = saved.new_empty((self.size, *saved.shape[1:])).to(device)
            self.buffer[: self.count] = saved.to(device)


@TECHNIQUES.register("experience_replay")
def experience_replay(options, setup: TechniqueSetup) -> None:
    """Experience replay: D also sees fakes from earlier generators, so G cannot just hop between modes (Pfau &
    Vinyals, 2016; Shrivastava et al., 2017).

    Options: ``size`` (fakes kept per process, default 1000), ``fraction`` of each D-step fake batch
    taken from the buffer (default 0.5, half as in Shrivastava et al.), ``seed`` (default 0).
    Unconditional discriminators only.
    """
    opts = parse_options("experience_replay", options, DEFAULTS)
    setup.techniques.append(
        ExperienceReplay(
            size=integer("experience_replay", "size", opts["size"]),
            fraction=number("experience_replay", "fraction", opts["fraction"], 0.0, 1.0),
            seed=integer("experience_replay", "seed", opts["seed"], low=0),
        )
    )
