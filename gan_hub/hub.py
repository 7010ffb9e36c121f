"""The user-facing ``Generator``: loads any variant from a folder or the Hub, samples, saves, pushes."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Sequence

import torch
from huggingface_hub import ModelHubMixin, snapshot_download
from huggingface_hub.errors import (
    HfHubHTTPError,
    LocalEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from torch import nn

from .config import CONFIG_NAME, ConfigError, GeneratorConfig
from .io import CheckpointError, atomic_save_safetensors, atomic_write_text, load_state_strict  # noqa: F401
from .networks import WRAPPERS, NetworkConfig, build_network
from .nn.info import find_info_generator
from .registry import ARCHS
from .sampling import (
    grid_columns,
    image_grid,
    interpolate_latents,
    latent_for_seed,
    latents,
    lerp,
    to_uint8,
)
from .scatter import SCATTER_POINTS
from .validation import (
    check_class,
    check_classes,
    check_int,
    check_labels,
    check_seed,
    check_seeds,
    looks_local,
    read_json_object,
    unreachable_message,
)

WEIGHTS_NAME = "model.safetensors"
DISCRIMINATOR_NAME = "discriminator.safetensors"
METRICS_NAME = "metrics.json"
SAMPLES_NAME = "samples.png"
CARD_NAME = "README.md"
HUB_FILES = [CONFIG_NAME, WEIGHTS_NAME, METRICS_NAME, CARD_NAME, SAMPLES_NAME]


def build_generator_network(config: GeneratorConfig) -> nn.Module:
    return build_network("generator", config.generator, config)


def build_discriminator_network(config: GeneratorConfig) -> nn.Module:
    """The discriminator that ``config.discriminator`` describes (the generator's architecture when the
    config has no discriminator section)."""
    return build_network("discriminator", config.discriminator or NetworkConfig(config.arch), config)


def resolve_model_folder(
    name_or_path: str | Path, revision: str | None = None, extra_files: Sequence[str] = (), **hub_kwargs
) -> Path:
    """A local folder as is; otherwise download the Hub repo's model files (and ``extra_files``) and return
    the snapshot."""
    path = Path(name_or_path)
    if path.is_dir():
        return path
    if path.exists() or looks_local(name_or_path):
        raise FileNotFoundError(
            f"no such folder: {name_or_path} (from {Path.cwd()}); give a model folder or a Hub repo id ORG/NAME"
        )
    try:
        return Path(
            snapshot_download(
                str(name_or_path), revision=revision, allow_patterns=[*HUB_FILES, *extra_files], **hub_kwargs
            )
        )
    except RepositoryNotFoundError as err:
        raise FileNotFoundError(f"{name_or_path!r} is neither a local folder nor a Hub repo you can access") from err
    except LocalEntryNotFoundError as err:  # offline, or the endpoint unreachable, and nothing cached
        raise FileNotFoundError(unreachable_message(name_or_path)) from err
    except RevisionNotFoundError as err:
        raise FileNotFoundError(f"revision {revision!r} not found in Hub repo {name_or_path!r}") from err
    except HfHubHTTPError as err:
        raise ConnectionError(f"could not download {name_or_path!r} from the Hub: {err}") from err


class Generator(
    nn.Module, ModelHubMixin, library_name="gan-hub", tags=["gan"], repo_url="https://github.com/gan-hub/gan-hub"
):
    """A pretrained GAN generator of any registered variant.

    >>> g = Generator.from_pretrained("model_zoo/dcgan-mnist")
    >>> g.generate(16, seed=0).shape
    torch.Size([16, 1, 28, 28])

    Models of 2-D points (``config.image_size`` 0, e.g. ``model_zoo/gan-ring8``) return float32 points
    [n, 2] instead of uint8 images, and their ``sample_grid`` is a scatter plot over the data's modes.
    """

    def __init__(self, config: GeneratorConfig, metrics: dict[str, Any] | None = None):
        super().__init__()
        self.config = config
        self.metrics = metrics
        self.net = build_generator_network(config)
        self.eval()

    # ---- loading and saving -------------------------------------------------------------
    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | Path,
        *,
        revision: str | None = None,
        map_location: str | torch.device = "cpu",
        **hub_kwargs,
    ) -> "Generator":
        folder = resolve_model_folder(pretrained_model_name_or_path, revision=revision, **hub_kwargs)
        config, metrics = load_model_config(folder), _read_json(folder / METRICS_NAME)
        try:
            model = cls(config, metrics=metrics)
        except (TypeError, ValueError) as err:
            raise ConfigError(
                f"{folder / CONFIG_NAME} does not describe a buildable {config.arch} network: {err}"
            ) from err
        load_state_strict(
            model.net,
            folder / WEIGHTS_NAME,
            f"{config.variant} generator",
            "The weights and config.json come from different models: re-export them together.",
        )
        return model.to(map_location).eval()

    def save_pretrained(
        self,
        save_directory: str | Path,
        *,
        config=None,
        repo_id=None,
        push_to_hub: bool = False,
        model_card_kwargs: dict | None = None,
        weights_dtype: torch.dtype | None = None,
        **push_to_hub_kwargs,
    ):
        """Write the Hub layout: config.json, model.safetensors, README.md, samples.png, metrics.json.

        ``weights_dtype`` (e.g. torch.float16) stores the floating-point tensors in that type, halving
        the file; the weights are rounded to it in memory first, so samples.png and any scores measured
        afterwards are exactly what a loaded copy produces. Files are written to a staging folder and then
        moved in one by one, so an interrupted save never leaves a truncated file.
        """
        if weights_dtype is not None:
            self.round_weights_to(weights_dtype)
        target = Path(save_directory)
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target, prefix=".staging-") as staging:
            staging = Path(staging)
            self.config.save(staging)
            state = {
                k: v.to(weights_dtype) if weights_dtype is not None and v.is_floating_point() else v
                for k, v in self.net.state_dict().items()
            }
            atomic_save_safetensors(staging / WEIGHTS_NAME, state, metadata={"format": "pt"})
            if self.metrics is not None:
                atomic_write_text(staging / METRICS_NAME, json.dumps(self.metrics, indent=2) + "\n")
            self.sample_grid().save(staging / SAMPLES_NAME)
            self.generate_model_card(**(model_card_kwargs or {})).save(staging / CARD_NAME)
            for item in staging.iterdir():
                item.replace(target / item.name)
        if push_to_hub:
            return self.push_to_hub(repo_id or target.name, model_card_kwargs=model_card_kwargs, **push_to_hub_kwargs)
        return None

    @torch.no_grad()
    def round_weights_to(self, dtype: torch.dtype) -> "Generator":
        """Round every floating-point parameter and buffer to ``dtype`` and back, in place."""
        for tensor in list(self.net.parameters()) + list(self.net.buffers()):
            if tensor.is_floating_point():
                tensor.copy_(tensor.to(dtype))
        return self

    def generate_model_card(self, *args, **kwargs):
        from .cards import render_model_card

        return render_model_card(self.config, self.metrics, size=weights_size(self.net))

    # ---- sampling ------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def _labels(self, n: int, labels: Sequence[int | str] | torch.Tensor | None) -> torch.Tensor | None:
        return check_labels(labels, n, self.config)

    def class_index(self, label: int | str) -> int:
        return check_class(self.config, label)

    def generate_from_latents(
        self, z: torch.Tensor, labels: torch.Tensor | None = None, batch_size: int = 500
    ) -> torch.Tensor:
        """uint8 images [N, C, H, W] (2-D models: float32 points [N, 2]) for latents z (and labels for
        conditional models)."""
        batch_size = check_int("batch_size", batch_size, minimum=1)
        return self._batched(
            len(z),
            batch_size,
            lambda s: self.net(z[s].to(self.device), None if labels is None else labels[s].to(self.device)),
        )

    @property
    def supports_truncation(self) -> bool:
        """False where the latent carries more than i.i.d. normal noise (InfoGAN codes, MIX+GAN's component pick)."""
        return not any(getattr(m, "structured_latent", False) for m in self.net.modules())

    def generate(
        self,
        n: int,
        seed: int = 0,
        labels=None,
        batch_size: int = 500,
        codes: dict | None = None,
        truncation: float | None = None,
    ) -> torch.Tensor:
        """n images as uint8 [n, C, H, W] (2-D models: float32 points [n, 2]); the same seed gives the same
        samples.

        ``truncation`` (the truncation trick): redraw latent entries with |z| above it, trading variety
        for typical samples (see :func:`gan_hub.sampling.latents`); refused where
        :attr:`supports_truncation` is False.

        ``codes`` (InfoGAN models only) fixes latent codes; what it leaves out is drawn from the seed:
        ``{"categorical": 3}`` (one category for all, or a list of n ints, or probabilities [n, K]),
        ``{"continuous": [0.5, None]}`` (one value per code for all samples, None keeps the seed's; or
        [n, C] rows). Values outside the training range [-1, 1] extrapolate. See :meth:`latent_codes`.
        """
        n, seed, batch_size = (
            check_int("n", n, minimum=0),
            check_seed("seed", seed),
            check_int("batch_size", batch_size, minimum=1),
        )
        if truncation is not None and not self.supports_truncation:
            raise ValueError(
                f"{self.config.variant} models do not support truncation: part of their latent is not "
                "normal noise (codes or a mixture component); sample without it"
            )
        z, labels = latents(n, self.config.latent_dim, seed, truncation), self._labels(n, labels)
        if codes is None:
            return self.generate_from_latents(z, labels, batch_size)
        info = self._info_network()
        noise, categorical, continuous = info.layout.split(z)
        categorical, continuous = info.layout.resolve_codes(n, codes, categorical, continuous)
        return self._batched(
            n,
            batch_size,
            lambda s: info.from_codes(
                noise[s].to(self.device),
                None if categorical is None else categorical[s],
                None if continuous is None else continuous[s],
                None if labels is None else labels[s].to(self.device),
            ),
        )

    def latent_codes(self, n: int, seed: int = 0) -> dict[str, torch.Tensor]:
        """The InfoGAN codes that ``generate(n, seed)`` uses: {"categorical": int64 [n], "continuous": [n, C]}
        (a key only for the codes the model has)."""
        layout = self._info_network().layout
        _, categorical, continuous = layout.split(latents(n, self.config.latent_dim, seed))
        return {k: v for k, v in (("categorical", categorical), ("continuous", continuous)) if v is not None}

    def _info_network(self):
        info = find_info_generator(self.net)
        if info is None:
            raise ValueError(
                f"{self.config.variant} model has no latent codes (InfoGAN models have): call it without codes"
            )
        return info

    @torch.inference_mode()
    def _batched(self, n: int, batch_size: int, run) -> torch.Tensor:
        """uint8 images (2-D models: float32 points) from ``run(slice)`` over ``n`` samples, ``batch_size`` at a
        time."""
        vector = self.config.is_vector
        out = [
            (torch.Tensor.float if vector else to_uint8)(run(slice(start, start + batch_size))).cpu()
            for start in range(0, n, batch_size)
        ]
        if out:
            return torch.cat(out)
        if vector:
            return torch.empty(0, self.config.channels)
        return torch.empty(0, self.config.channels, self.config.image_size, self.config.image_size, dtype=torch.uint8)

    # ---- encoders (BiGAN) ----------------------------------------------------------------------
    def _encoder_network(self) -> nn.Module:
        if not callable(getattr(self.net, "encode", None)):
            raise ValueError(f"{self.config.variant} model has no encoder (BiGAN models have): it cannot encode images")
        return self.net

    @torch.inference_mode()
    def encode(self, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """Latents [N, latent_dim] (float32, CPU) of images: uint8 [N, C, H, W], or floats already in [-1, 1]."""
        encoder, x, batch_size = (
            self._encoder_network(),
            model_inputs(self.config, images),
            check_int("batch_size", batch_size, minimum=1),
        )
        out = [
            encoder.encode(x[start : start + batch_size].to(self.device)).float().cpu()
            for start in range(0, len(x), batch_size)
        ]
        return torch.cat(out) if out else torch.empty(0, self.config.latent_dim)

    def reconstruct(self, images: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
        """G(E(x)): uint8 images [N, C, H, W] generated from the encodings of ``images``."""
        return self.generate_from_latents(self.encode(images, batch_size), batch_size=batch_size)

    def interpolate(
        self,
        seed_a: int = 0,
        seed_b: int = 1,
        steps: int = 8,
        method: str = "slerp",
        label_a: int | str | None = None,
        label_b: int | str | None = None,
    ) -> torch.Tensor:
        """Frames [steps, C, H, W] from the latent of seed_a to that of seed_b (and label_a to label_b)."""
        return self.generate_from_latents(*self.interpolation_inputs(seed_a, seed_b, steps, method, label_a, label_b))

    def interpolation_inputs(
        self,
        seed_a: int = 0,
        seed_b: int = 1,
        steps: int = 8,
        method: str = "slerp",
        label_a: int | str | None = None,
        label_b: int | str | None = None,
    ):
        """(z [steps, latent_dim], labels [steps, K] or None) of :meth:`interpolate`, to generate piecewise."""
        dim, seed_a, seed_b = self.config.latent_dim, check_seed("seed_a", seed_a), check_seed("seed_b", seed_b)
        z = interpolate_latents(latent_for_seed(seed_a, dim), latent_for_seed(seed_b, dim), steps, method)
        labels = None
        if self.config.conditional:
            first = self.class_index(0 if label_a is None else label_a)
            last = first if label_b is None else self.class_index(label_b)
            codes = torch.eye(self.config.num_classes)
            labels = lerp(codes[first], codes[last], torch.linspace(0, 1, steps))
        elif label_a is not None or label_b is not None:
            raise ValueError(f"{self.config.variant} model is not class-conditional: interpolate without labels")
        return z, labels

    def class_grid(self, seeds: Sequence[int], classes: Sequence[int | str] | None = None) -> torch.Tensor:
        """Rows are classes, columns are seeds: uint8 [len(classes) * len(seeds), C, H, W]."""
        if not self.config.conditional:
            raise ValueError(f"{self.config.variant} model is not class-conditional: it has no class grid")
        seeds, class_ids = check_seeds("seeds", seeds), check_classes(self.config, classes)
        z = torch.stack([latent_for_seed(s, self.config.latent_dim) for s in seeds])
        z = z.repeat(len(class_ids), 1)
        labels = torch.tensor(class_ids).repeat_interleave(len(seeds))
        return self.generate_from_latents(z, labels)

    def sample_grid(self, seed: int = 0, per_class: int = 10):
        """The picture saved as samples.png: class rows for conditional models, an 8x8 grid for other image
        models, and for 2-D models a scatter plot of 2,500 points over the data's modes."""
        if self.config.is_vector:
            return self.scatter(self.generate(SCATTER_POINTS, seed=seed), f"{SCATTER_POINTS:,} samples, seed {seed}")
        if self.config.conditional:
            return image_grid(self.class_grid(range(seed, seed + per_class)), nrow=per_class)
        return image_grid(self.generate(64, seed=seed), nrow=grid_columns(64))

    def scatter(self, points: torch.Tensor, title: str = ""):
        """A scatter plot (PIL image) of this 2-D model's ``points`` [N, 2] over the modes of its dataset."""
        from .scatter import mixture_for, scatter_plot

        if not self.config.is_vector:
            raise ValueError(f"{self.config.variant} model makes images, not 2-D points: draw them with sample_grid")
        return scatter_plot(points, mixture_for(self.config.dataset), title)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z, labels)


def load_model_config(folder: Path) -> GeneratorConfig:
    """The folder's config.json, for a variant this library has (its network wrappers registered)."""
    from .variants import VARIANTS  # registers the variants and the network wrappers they define

    config = GeneratorConfig.load(folder)
    path = Path(folder) / CONFIG_NAME
    if config.variant not in VARIANTS:
        raise ConfigError(
            f"{path} names variant {config.variant!r}, which this version of "
            f"gan-hub does not have (it has: {', '.join(VARIANTS.names())}); upgrade gan-hub"
        )
    for role, net in (("generator", config.generator), ("discriminator", config.discriminator)):
        if net is None:
            continue
        if net.arch not in ARCHS:
            raise ConfigError(
                f"{path}: unknown {role} architecture {net.arch!r}; this library has {', '.join(ARCHS.names())}"
            )
        unknown = [w["name"] for w in net.wrappers if w["name"] not in WRAPPERS]
        if unknown:
            raise ConfigError(
                f"{path}: unknown network wrapper {unknown[0]!r} around the {role}; this library has "
                f"{', '.join(WRAPPERS.names())}"
            )
    return config


def weights_size(net: nn.Module) -> dict:
    """The generator's size as the zoo stores it (float16) and its largest tensor: what a card says about size."""
    tensors = {k: v for k, v in net.state_dict().items() if v.is_floating_point()}
    params = sum(v.numel() for v in tensors.values())
    largest = max(tensors, key=lambda k: tensors[k].numel(), default=None)
    return {
        "parameters": params,
        "float16_megabytes": params * 2 / 1e6,
        "largest": largest,
        "largest_shape": list(tensors[largest].shape) if largest else [],
        "largest_parameters": tensors[largest].numel() if largest else 0,
    }


class Discriminator(nn.Module):
    """A trained model's discriminator, as its trainer exported it (``discriminator.safetensors``).

    >>> d = Discriminator.from_pretrained("model_zoo/cgan-mnist")
    >>> d.score(images)          # its raw outputs for uint8 images [N, C, H, W]: logits [N] for most variants

    ``score`` returns what the network returns: logits [N]; or, for a discriminator with extra heads,
    a dict of tensors (``logits`` plus e.g. ``class_logits`` for AC-GAN, ``q_categorical`` for InfoGAN);
    K class logits [N, K] for the semi-supervised classifier; reconstructions for EBGAN/BEGAN's
    autoencoder. BiGAN's D scores (image, latent) pairs: call ``d.net(x, None, z=latents)``.
    """

    def __init__(self, config: GeneratorConfig):
        super().__init__()
        self.config = config
        self.net = build_discriminator_network(config)
        self.eval()

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | Path,
        *,
        revision: str | None = None,
        map_location: str | torch.device = "cpu",
        **hub_kwargs,
    ) -> "Discriminator":
        folder = resolve_model_folder(name_or_path, revision=revision, extra_files=[DISCRIMINATOR_NAME], **hub_kwargs)
        config = load_model_config(folder)
        if not (folder / DISCRIMINATOR_NAME).is_file():
            raise FileNotFoundError(
                f"{name_or_path} has no {DISCRIMINATOR_NAME}: its discriminator was not exported "
                "(models trained with python -m train export it)"
            )
        try:
            model = cls(config)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{folder / CONFIG_NAME} does not describe a buildable discriminator: {err}") from err
        load_state_strict(
            model.net,
            folder / DISCRIMINATOR_NAME,
            f"{config.variant} discriminator",
            "The discriminator's weights and config.json come from different models (a version-1 "
            "config.json does not record the discriminator's heads and wrappers): re-export them together.",
        )
        return model.to(map_location).eval()

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    @torch.inference_mode()
    def score(self, images: torch.Tensor, labels=None, batch_size: int = 500):
        """The discriminator's raw outputs for ``images`` (uint8 [N, C, H, W], or floats already in [-1, 1]);
        ``labels`` (class ids or names, one per image) for a class-conditional discriminator."""
        x = model_inputs(self.config, images)
        batch_size = check_int("batch_size", batch_size, minimum=1)
        if labels is not None or self.config.conditional:
            if labels is None:
                raise ValueError(
                    f"labels: this {self.config.variant} discriminator judges (image, class) pairs; pass "
                    "one class id or name per image"
                )
            labels = check_labels(labels, len(x), self.config)
        parts = [
            self.net(
                x[s : s + batch_size].to(self.device),
                None if labels is None else labels[s : s + batch_size].to(self.device),
            )
            for s in range(0, len(x), batch_size)
        ]
        if parts and isinstance(parts[0], dict):
            return {k: torch.cat([p[k].cpu() for p in parts]) for k in parts[0]}
        return torch.cat([p.cpu() for p in parts])


def model_inputs(config: GeneratorConfig, images) -> torch.Tensor:
    """``images`` as the networks take them: uint8 [N, C, H, W] scaled to [-1, 1], or finite floats already
    in that range ([N, C] points for a 2-D model); anything else is an error naming the expected shape."""
    shape = (config.channels,) if config.is_vector else (config.channels, config.image_size, config.image_size)
    expected = f"[N, {', '.join(map(str, shape))}]"
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"images must be a torch.Tensor {expected}, got {type(images).__name__}")
    if images.ndim != len(shape) + 1 or tuple(images.shape[1:]) != shape:
        raise ValueError(f"expected images {expected} (uint8, or floats in [-1, 1]), got {tuple(images.shape)}")
    if images.dtype == torch.uint8:
        return images.float().div(127.5).sub(1.0)
    if not images.is_floating_point() or not torch.isfinite(images).all():
        raise ValueError(
            f"images must be uint8 or finite floats in [-1, 1], got {images.dtype} with non-finite or integer values"
        )
    return images.float()


def _read_json(path: Path) -> dict | None:
    return read_json_object(path, "the model's scores")
