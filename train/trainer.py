"""The model-agnostic accelerate trainer: it never changes when a variant is added."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import shutil
from pathlib import Path

import torch
from accelerate import Accelerator, DataLoaderConfiguration, DistributedDataParallelKwargs
from accelerate.utils import set_seed
from torch.optim.swa_utils import AveragedModel
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from gan_hub.data import fit_image_size, load_dataset
from gan_hub.hub import DISCRIMINATOR_NAME, Generator, build_discriminator_network, build_generator_network
from gan_hub.io import atomic_replace_dir, atomic_save_safetensors, atomic_write_text
from gan_hub.sampling import grid_columns, image_grid, latents, to_uint8
from gan_hub.variants.base import StepContext

from .checkpoints import load_latest_intact, save_checkpoint
from .compose import compose
from .config import TrainConfig
from .ema import ema_with_warmup
from .provenance import git_commit, library_versions
from .resume import RECORD_NAME, init_from_pretrained, refuse_changed_config
from .step import Players, alternating_step

logger = logging.getLogger("gan_hub.train")


def has_accelerator_hardware() -> bool:
    xpu = getattr(torch, "xpu", None)
    return torch.cuda.is_available() or torch.backends.mps.is_available() or bool(xpu and xpu.is_available())


def linear_decay_factor(step: int, start: int | None, end: int) -> float:
    """1 until ``start``, then linearly to 0 at ``end``. A function of the step alone, so resuming needs
    no scheduler state."""
    if start is None or step < start:
        return 1.0
    return max(0.0, (end - step) / (end - start))


class Trainer:
    def __init__(self, cfg: TrainConfig):
        self.cfg = cfg
        self.run = compose(cfg)
        self.spec, self.settings = self.run.spec, self.run.settings
        self.objective, self.algorithm = self.run.setup.objective, self.run.algorithm
        self.output_dir = Path(cfg.output_dir)
        self.accelerator = Accelerator(
            # Without accelerator hardware, processes started by `accelerate launch --multi_gpu` or torchrun
            # join a gloo process group on the CPU instead of each training alone.
            cpu=not has_accelerator_hardware(),
            mixed_precision=cfg.mixed_precision,
            log_with="tensorboard",
            project_dir=str(self.output_dir),
            dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True, data_seed=cfg.seed),
            # D runs batch norm on a real and a fake forward: DDP's in-place buffer broadcast at each
            # forward would invalidate the first one's graph, so each process keeps its own running stats.
            kwargs_handlers=[DistributedDataParallelKwargs(broadcast_buffers=False)],
        )
        set_seed(cfg.seed, device_specific=True)
        dataset = load_dataset(cfg.dataset, cfg.data_dir, train=True, **cfg.dataset_options)
        if self.spec.image_size:
            dataset = fit_image_size(dataset, self.spec.image_size)
        self.gen_config = self.run.model_config(dataset.info)
        self.batch_size = self.settings["batch_size"]
        if len(dataset) < self.batch_size * self.accelerator.num_processes:
            raise ValueError(
                f"dataset {cfg.dataset} has {len(dataset)} images, fewer than one batch of "
                f"{self.batch_size} per process x {self.accelerator.num_processes} processes: lower --batch-size"
            )
        generator = build_generator_network(self.gen_config)
        discriminator = build_discriminator_network(self.gen_config)
        if cfg.init_from:
            init_from_pretrained(generator, discriminator, cfg.init_from)
        self.algorithm.setup(generator, discriminator)
        self.algorithm.bind_data(dataset, cfg.seed)
        optimizer = self.run.optimizer
        self.base_lr_g, self.base_lr_d = optimizer.lr_g, optimizer.lr_d
        opt_g = optimizer.build(generator.parameters(), self.base_lr_g)
        opt_d = optimizer.build(discriminator.parameters(), self.base_lr_d)
        loader = DataLoader(
            dataset, batch_size=self.batch_size, shuffle=True, drop_last=True, num_workers=cfg.num_workers
        )
        self.G, self.D, self.opt_g, self.opt_d, self.loader = self.accelerator.prepare(
            generator, discriminator, opt_g, opt_d, loader
        )
        self.unwrap = functools.cache(
            self.accelerator.unwrap_model
        )  # fixed once prepared; accelerate's own is slow per call
        self.n_critic = self.settings["n_critic"]
        self.players = Players(self.G, self.D, self.opt_g, self.opt_d, self.algorithm, self.n_critic)
        decay = self.settings["ema_decay"]
        self.ema = (
            AveragedModel(self.accelerator.unwrap_model(self.G), multi_avg_fn=ema_with_warmup(decay), use_buffers=True)
            if decay > 0
            else None
        )
        self.ema_decay = decay
        self.step = 0
        self.last_logs: dict[str, float] = {}
        # Training noise has its own generator (saved per process in checkpoints): the global RNG is also
        # drawn by data loading, which would make a resumed run diverge from an uninterrupted one.
        self.noise = torch.Generator().manual_seed(cfg.seed * 1_000_003 + self.accelerator.process_index)
        self.fixed_z = latents(64, self.gen_config.latent_dim, seed=cfg.seed + 12345)

    # ---- one optimisation step ----------------------------------------------------------------
    def sample_latents(self, n: int) -> torch.Tensor:
        return torch.randn(n, self.gen_config.latent_dim, generator=self.noise).to(self.accelerator.device)

    def random_labels(self, n: int) -> torch.Tensor | None:
        if not self.gen_config.conditional:
            return None
        return torch.randint(0, self.gen_config.num_classes, (n,), generator=self.noise).to(self.accelerator.device)

    def set_learning_rates(self) -> None:
        factor = linear_decay_factor(self.step, self.cfg.lr_decay_start, self.cfg.max_steps)
        for optimizer, base in ((self.opt_g, self.base_lr_g), (self.opt_d, self.base_lr_d)):
            for group in optimizer.param_groups:
                group["lr"] = base * factor

    def context(self) -> StepContext:
        return StepContext(self.step, self.cfg.max_steps, lambda t: self.accelerator.reduce(t, "mean"))

    def train_step(self, real: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        acc = self.accelerator
        self.set_learning_rates()
        labels = labels if self.gen_config.conditional else None
        with acc.accumulate(self.G, self.D):
            logs, generator_updated = alternating_step(
                self.players,
                real,
                labels,
                self.sample_latents,
                self.random_labels,
                self.context(),
                acc.backward,
                acc.autocast,
                self.unwrap,
            )
            if generator_updated and self.ema is not None:
                self.ema.update_parameters(self.unwrap(self.G))
        return logs

    # ---- the loop ------------------------------------------------------------------------------
    @property
    def checkpoint_dir(self) -> Path:
        return self.output_dir / "checkpoints"

    def resume(self) -> None:
        loaded = load_latest_intact(
            self.accelerator, self.checkpoint_dir, self.ema, self.noise, self.algorithm, self.accelerator.print
        )
        if loaded:
            self.step, path = loaded
            self.accelerator.print(f"resumed from {path} at step {self.step}")

    def batches(self):
        """Endless batches; an epoch's order depends only on (seed, epoch), so resuming mid-epoch is exact."""
        per_epoch = len(self.loader)
        while True:
            epoch, offset = divmod(self.step, per_epoch)
            loader = self.accelerator.skip_first_batches(self.loader, offset) if offset else self.loader
            loader.set_epoch(epoch)
            yield from loader

    def train(self) -> Path:
        cfg, acc = self.cfg, self.accelerator
        if acc.is_main_process:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            refuse_changed_config(self.output_dir, self.settings)
        acc.init_trackers("tensorboard")
        self.resume()
        self.record_config()  # only once set-up and resume went through: a run that fails to start leaves no record
        bar = tqdm(
            total=cfg.last_step,
            initial=self.step,
            desc=f"{cfg.variant} on {cfg.dataset}",
            disable=not acc.is_local_main_process,
            dynamic_ncols=True,
        )
        batches = self.batches()
        while self.step < cfg.last_step:
            real, labels = next(batches)
            logs = self.train_step(real, labels)
            self.last_logs = logs
            self.step += 1
            bar.update(1)
            if self.step % cfg.log_every == 0 or self.step == cfg.last_step:
                bar.set_postfix({k: f"{v:.3f}" for k, v in logs.items()})
                acc.log(logs, step=self.step)
            if self.step % cfg.checkpoint_every == 0 or self.step == cfg.last_step:
                save_checkpoint(
                    acc, self.checkpoint_dir, self.step, self.ema, cfg.keep_checkpoints, self.noise, self.algorithm
                )
            if self.step % cfg.sample_every == 0:
                self.log_samples()
            if self.step % cfg.eval_every == 0 and cfg.eval_samples_during_training:
                self.log_scores(cfg.eval_samples_during_training)
        bar.close()
        model_dir = self.export()
        acc.end_training()
        return model_dir

    def record_config(self) -> None:
        if self.accelerator.is_main_process:
            atomic_write_text(
                self.output_dir / RECORD_NAME,
                json.dumps({"training_config": self.cfg.to_dict(), "resolved": self.settings}, indent=2, default=str),
            )

    # ---- monitoring ----------------------------------------------------------------------------
    def sampling_network(self) -> torch.nn.Module:
        return self.ema.module if self.ema is not None else self.accelerator.unwrap_model(self.G)

    def snapshot(self) -> Generator:
        """A Generator holding the current (EMA) weights, with provenance."""
        config = dataclasses.replace(self.gen_config, provenance=self.provenance())
        generator = Generator(config)
        generator.net.load_state_dict(self.sampling_network().state_dict())
        return generator.to(self.accelerator.device).eval()

    def log_samples(self) -> None:
        if not self.accelerator.is_main_process:
            return
        net = self.sampling_network()
        was_training = net.training
        net.eval()
        with torch.inference_mode():
            labels = None
            if self.gen_config.conditional:
                labels = torch.arange(64, device=self.accelerator.device) % self.gen_config.num_classes
            images = to_uint8(net(self.fixed_z.to(self.accelerator.device), labels))
        net.train(was_training)
        grid = image_grid(images, nrow=grid_columns(64))
        sample_dir = self.output_dir / "samples"
        sample_dir.mkdir(exist_ok=True)
        grid.save(sample_dir / f"step_{self.step:08d}.png")
        tracker = self.accelerator.get_tracker("tensorboard", unwrap=True)
        from torchvision.utils import make_grid

        tracker.add_image("samples", make_grid(images, nrow=8), global_step=self.step)

    def log_scores(self, num_samples: int) -> list[dict]:
        if not self.accelerator.is_main_process:
            return []
        from gan_hub.metrics.evaluate import evaluate_generator

        # IS and FID come from one scorer pass and shipped statistics; KID and mode counts wait for the export.
        scores = evaluate_generator(self.snapshot(), num_samples=num_samples, seed=0, metrics=("is", "fid"))["scores"]
        self.accelerator.log({s["name"]: s.get("mean", s.get("value")) for s in scores}, step=self.step)
        for s in scores:
            tqdm.write(f"step {self.step}: {s['name']} = {s.get('mean', s.get('value')):.4f}")
        return scores

    def provenance(self) -> dict:
        return {
            "training_config": self.cfg.to_dict(),
            "resolved": self.settings,
            "objective": self.objective.name,
            "steps": self.step,
            "batch_size": self.batch_size,
            "num_processes": self.accelerator.num_processes,
            "mixed_precision": self.cfg.mixed_precision,
            "seed": self.cfg.seed,
            "ema": self.ema_decay if self.ema is not None else None,
            "git_commit": git_commit(),
            "versions": library_versions(),
        }

    # ---- export ---------------------------------------------------------------------------------
    def export(self) -> Path:
        """Write runs/.../model/ in the Hub layout (atomically) and push it when asked."""
        acc, cfg = self.accelerator, self.cfg
        model_dir = self.output_dir / "model"
        if acc.is_main_process:
            generator = self.snapshot()
            generator.metrics = {"scores": [], "reference": []}
            if cfg.eval_samples:
                from gan_hub.metrics.evaluate import evaluate_generator

                generator.metrics = evaluate_generator(
                    generator, num_samples=cfg.eval_samples, seed=0, progress=True, data_dir=cfg.data_dir
                )
            generator.metrics["training"] = {
                "steps": self.step,
                "seed": cfg.seed,
                "git_commit": generator.config.provenance["git_commit"],
                # e.g. BEGAN's convergence measure m_global and k_t at the end
                "final_logs": {k: round(v, 6) for k, v in self.last_logs.items()},
            }
            staging = self.output_dir / ".model-staging"
            shutil.rmtree(staging, ignore_errors=True)
            generator.cpu().save_pretrained(staging)
            atomic_save_safetensors(
                staging / DISCRIMINATOR_NAME, self.algorithm.discriminator_export(acc.unwrap_model(self.D))
            )
            atomic_replace_dir(staging, model_dir)
            acc.print(f"exported {model_dir}")
            if cfg.push_to_hub:
                push_folder(model_dir, cfg.push_to_hub)
        acc.wait_for_everyone()
        return model_dir


def push_folder(folder: Path, repo_id: str) -> str:
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, exist_ok=True)
    commit = api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message="Upload gan-hub model")
    print(f"pushed {folder} to {repo_id}: {commit}")
    return str(commit)
