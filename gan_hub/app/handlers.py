"""What each event of the app does: the ``App`` handlers, bound to a catalog and the scorers.

Kept apart from the layout (``ui.py``) so the wiring stays readable. Handlers raise ``gr.Error`` for
anything the user can fix; its message is shown in the page.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import gradio as gr
import pandas as pd

from . import actions as act
from .batching import BusyError, ForwardBatcher
from .catalog import Catalog, CatalogError, search_hub
from .leaderboard import TEXT_COLUMNS, common_protocol, leaderboard, model_record, own_protocol, score_columns
from .memory import release_free_memory

# torch, the scorers, matplotlib and PyAV are imported by the handlers that use them, so the first page
# is served before they load (see prewarm()).

ALL = "(all)"
SCORE_UPDATE_SECONDS = 0.4  # the Score tab redraws at most this often (plus the first and last update)
EXPORT_TTL_SECONDS = 30 * 60  # GIF/MP4 exports older than this are deleted
FORWARD_TIMEOUT = 120.0  # s: a sampling request waits at most this long for its forward
LEADERBOARD_INFO = ["thumbnail", "model", "variant", "paper", "dataset"]
LEADERBOARD_WIDTHS = ["96px", "150px", "110px", "150px", "80px"]


def user_error(message: str) -> gr.Error:
    """An error shown in the page; not logged with a traceback (it is the user's input, not a bug)."""
    return gr.Error(message, print_exception=False)


USER_ERRORS = (ValueError, FileNotFoundError, ConnectionError, BusyError)  # InputError, CatalogError: ValueErrors


def user_errors(fn: Callable) -> Callable:
    """Turn the errors a user can cause into ``gr.Error`` so their message is shown in the page."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except USER_ERRORS as err:
            raise user_error(str(err)) from None

    return wrapper


def user_errors_stream(fn: Callable) -> Callable:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            yield from fn(*args, **kwargs)
        except gr.Error:
            raise
        except USER_ERRORS as err:
            raise user_error(str(err)) from None

    return wrapper


def model_summary(config) -> str:
    classes = f"{config.num_classes} classes" if config.conditional else "unconditional"
    shape = (
        f"{config.channels}-D points (the Sample tab draws count × {act.POINTS_PER_COUNT} of them over the modes)"
        if config.is_vector
        else f"{config.channels}×{config.image_size}×{config.image_size}"
    )
    return (
        f"**{config.variant}** (arch `{config.arch}`) · dataset `{config.dataset or 'unspecified'}` · "
        f"{shape} · latent {config.latent_dim} · {classes}"
    )


def gallery_caption(row: dict) -> str:
    """A thumbnail's caption: the model's name, with its variant and dataset where the name does not say them
    ("dcgan-mnist"; "my-model · dcgan · mnist"). Long captions are cut off under the small thumbnails."""
    name, variant, dataset = row["model"], row["variant"], row["dataset"]
    stem = name.split("/")[-1]  # a Hub repo id's name part
    rest = stem[len(variant) + 1 :]  # "mnist" of "dcgan-mnist"; "ring8" of "gan-ring8" (dataset ring8-unit)
    says_both = stem.startswith(f"{variant}-") and (rest == dataset or dataset.startswith(f"{rest}-"))
    return name if says_both else f"{name} · {variant} · {dataset}"


def scorer_names() -> list[str]:
    """Every registered scorer (importing gan_hub.metrics registers them)."""
    from .. import metrics  # noqa: F401
    from ..registry import SCORERS

    return SCORERS.names()


PREWARM_DELAY = 1.0  # s: long enough for the first page to go out before the imports take the GIL


def prewarm(delay: float = PREWARM_DELAY) -> None:
    """Import what the handlers need (torch, the networks, the scorers, the figures) in the background,
    once the page is served, so the first click does not wait for it."""

    def load():
        time.sleep(delay)
        from .. import hub, metrics, sampling  # noqa: F401
        from . import media, plots  # noqa: F401

    threading.Thread(target=load, name="gan-hub-prewarm", daemon=True).start()


class ScorerCache:
    """Scorers by name, loaded once; ``weights`` maps a scorer name to a weights file that overrides the shipped one."""

    def __init__(self, weights: dict[str, str | Path] | None = None):
        self.weights = dict(weights or {})
        self._scorers: dict[str, Any] = {}
        self._lock = threading.Lock()

    def unavailable(self, name: str) -> str | None:
        """Why scorer ``name`` cannot run on this machine (its weights are missing), or None when it can.

        Only the Inception network's weights can be missing (they are not shipped); finding them does not
        load them and never downloads."""
        if not name.startswith("inception"):
            return None
        from ..metrics.inception_v3 import find_weights

        try:
            find_weights(self.weights.get(name), download=False)
        except (FileNotFoundError, ValueError) as err:
            reason = str(err).split(". ")[0].removeprefix(f"{name}: ")  # the cause; the README says where to put it
            return f"{reason} (see the README's Scores section)"
        return None

    def default_for(self, dataset: str | None, names: list[str]) -> tuple[str | None, str]:
        """(the scorer to preselect for a model of ``dataset``, a note on the scorers that cannot run here)."""
        from ..metrics.evaluate import SCORER_FOR_DATASET

        available = [n for n in names if self.unavailable(n) is None]
        preferred = SCORER_FOR_DATASET.get(dataset or "")
        choice = preferred if preferred in available else next(iter(available), None)
        missing = [n for n in names if n not in available]
        note = "; ".join(f"{n} is unavailable here: {self.unavailable(n)}" for n in missing)
        return choice, note

    def get(self, name: str):
        from ..metrics import load_scorer

        with self._lock:
            if name not in self._scorers:
                try:
                    self._scorers[name] = load_scorer(name, weights_path=self.weights.get(name))
                except KeyError as err:  # UnknownNameError
                    raise act.InputError(str(err)) from None
                except (FileNotFoundError, ValueError) as err:
                    raise act.InputError(f"scorer {name} is not available: {err}") from None
            return self._scorers[name]


class ExportFolder:
    """Where GIF/MP4 exports are written; files older than ``ttl`` seconds are removed on each new export."""

    def __init__(self, ttl: float = EXPORT_TTL_SECONDS):
        self.root = Path(tempfile.mkdtemp(prefix="gan-hub-exports-"))
        self.ttl = ttl
        atexit.register(self.remove)

    def remove(self) -> None:
        """Delete the folder and its exports (at exit, and when the app is closed)."""
        shutil.rmtree(self.root, ignore_errors=True)

    def new_stem(self, stem: str) -> Path:
        cutoff = time.time() - self.ttl
        for old in self.root.iterdir():
            if old.stat().st_mtime < cutoff:
                old.unlink(missing_ok=True)
        return self.root / f"{stem}-{uuid.uuid4().hex[:8]}"


class App:
    """The event handlers (see ``ui.build_demo`` for which component feeds which)."""

    def __init__(self, catalog: Catalog, scorers: ScorerCache):
        self.catalog, self.scorers = catalog, scorers
        self.exports = ExportFolder()
        self.batcher = ForwardBatcher(catalog.load)

    def forward(self, name: str):
        """forward(z, labels) for model ``name``, through the batcher that merges concurrent requests."""
        return functools.partial(self.batcher.run, name, timeout=FORWARD_TIMEOUT)

    def close(self) -> None:
        self.batcher.close()
        self.exports.remove()

    # ---- browse --------------------------------------------------------------------------------
    def browse(self, variant: str | None = ALL, dataset: str | None = ALL):
        """(gallery items, leaderboard table, names in gallery order, variant choices, dataset choices)."""
        records = [model_record(self.catalog, name) for name in self.catalog.names]
        rows = leaderboard(records)
        variants = [ALL] + sorted({r["variant"] for r in rows})
        datasets = [ALL] + sorted({r["dataset"] for r in rows})
        shown = [r for r in rows if variant in (None, ALL, r["variant"]) and dataset in (None, ALL, r["dataset"])]
        in_catalog_order = sorted(shown, key=lambda r: self.catalog.names.index(r["model"]))
        thumbnails = {r["model"]: self._thumbnail(r["model"]) for r in shown}
        gallery = [
            (str(thumbnails[r["model"]]), gallery_caption(r)) for r in in_catalog_order if thumbnails[r["model"]]
        ]
        named = [r["model"] for r in in_catalog_order if thumbnails[r["model"]]]
        return (
            gallery,
            self.leaderboard_table(shown, rows),
            named,
            gr.Dropdown(choices=variants, value=variant if variant in variants else ALL),
            gr.Dropdown(choices=datasets, value=dataset if dataset in datasets else ALL),
        )

    def _thumbnail(self, name: str) -> Path | None:
        try:
            return self.catalog.samples_path(name)
        except (CatalogError, OSError):
            return None

    @staticmethod
    def leaderboard_table(shown: list[dict], rows: list[dict]) -> gr.Dataframe:
        """The leaderboard as a sortable table: thumbnail, model, variant, paper, dataset, scores, protocol."""
        scores = score_columns(rows)
        texts = [t for t in TEXT_COLUMNS if any(r.get(t) for r in rows)]
        bar = [t for t in texts if t == "quality bar"]  # next to the names: the verdict stays in view
        notes = [t for t in texts if t != "quality bar"]
        columns = LEADERBOARD_INFO + bar + scores + notes + ["protocol"]
        shared = common_protocol(rows)
        data = [
            {
                **r,
                "thumbnail": f"![{r['model']}](/v1/models/{r['model']}/thumbnail.png)",
                "protocol": own_protocol(r, shared),
            }
            for r in shown
        ]
        frame = pd.DataFrame([{k: r.get(k) for k in columns} for r in data], columns=columns)
        datatype = (
            ["markdown"]
            + ["str"] * (len(LEADERBOARD_INFO) - 1 + len(bar))
            + ["number"] * len(scores)
            + ["str"] * (len(notes) + 1)
        )
        widths = (
            LEADERBOARD_WIDTHS + ["170px"] * len(bar) + ["112px"] * len(scores) + ["220px"] * len(notes) + ["360px"]
        )
        label = "leaderboard (click a column to sort)" + (
            f"; every score's protocol unless its row says otherwise: {shared}" if shared else ""
        )
        return gr.Dataframe(value=frame, datatype=datatype, headers=columns, column_widths=widths, label=label)

    def pick_from_gallery(self, names: list[str], event: gr.SelectData):
        index = event.index if isinstance(event.index, int) else event.index[0]
        if not 0 <= index < len(names):
            raise user_error("that gallery item is no longer listed: refresh the gallery")
        return gr.Dropdown(value=names[index])

    @user_errors
    def add_model(self, source: str):
        """Validate and offer a typed Hub repo id or folder; select it."""
        name = self.catalog.add(source)
        return (
            gr.Dropdown(choices=self.catalog.names, value=name),
            gr.Dropdown(choices=self.catalog.names, value=[]),
            f"Added **{name}** ({source.strip()}); it is selected above.",
        )

    @user_errors
    def search(self, query: str):
        found = search_hub(query)
        message = (
            f"{len(found)} gan-hub model(s) on the Hub"
            + (f" matching {query.strip()!r}" if query else "")
            + (": pick one and press **Add**." if found else ".")
        )
        return gr.Dropdown(choices=found, value=found[0] if found else None), message

    # ---- the selected model ----------------------------------------------------------------------
    def model_info(self, name: str | None):
        """Summary, card, samples picture, class choices, scorer and truncation for the selected model."""
        off = gr.Dropdown(choices=[act.NO_CLASS], value=act.NO_CLASS, interactive=False)
        if not name:
            message = (
                "No model selected."
                if self.catalog.names
                else ("No models found: put model folders in `model_zoo/` or pass `--models` / `GAN_HUB_MODELS`.")
            )
            return message, "", None, off, off, off, "", gr.Dropdown(), gr.Slider(interactive=False)
        try:
            config = self.catalog.config(name)
            card = self.catalog.card(name)
            samples = self.catalog.samples_path(name)
        except (CatalogError, ValueError, OSError) as err:
            raise user_error(str(err)) from None
        conditional = config.conditional
        names = act.class_choices(config, with_cycle=False)
        sample_classes = act.class_choices(config)
        note = (
            act.class_caption(config, 8, 0).split(";")[0] + "."
            if conditional
            else f"**{name}** is unconditional: a class grid needs a class-conditional model."
        )
        scorers = scorer_names()
        scorer_default, scorer_note = self.scorers.default_for(config.dataset, scorers)
        truncation = self._supports_truncation(name, config)
        return (
            model_summary(config),
            card or "*This model has no model card (README.md).*",
            str(samples) if samples else None,
            gr.Dropdown(choices=sample_classes, value=sample_classes[0], interactive=conditional),
            gr.Dropdown(choices=names, value=names[0], interactive=conditional),
            gr.Dropdown(choices=names, value=names[1] if len(names) > 1 else names[0], interactive=conditional),
            note,
            gr.Dropdown(choices=scorers, value=scorer_default, info=scorer_note or "every scorer can run here"),
            gr.Slider(
                value=0.0,
                interactive=truncation,
                info="0 = off; else redraw latent entries with |z| above it"
                if truncation
                else f"{config.variant} models do not support truncation",
            ),
        )

    def _supports_truncation(self, name: str, config) -> bool:
        """Known once the model is loaded; before that the slider stays on and Generate explains a refusal."""
        return self.catalog.load(name).supports_truncation if name in self.catalog.loaded else True

    # ---- images --------------------------------------------------------------------------------
    @user_errors
    def generate(self, name, seed, count, class_choice, truncation=0.0):
        return act.sample_grid(self.catalog.load(name), seed, count, class_choice, truncation, self.forward(name))

    @user_errors_stream
    def interpolate(self, name, seed_a, seed_b, steps, method, class_a, class_b):
        """Streams the strip as frames are made; the last update adds the GIF and MP4 exports."""
        frames = None
        for frames in act.interpolation_frames(
            self.catalog.load(name), seed_a, seed_b, steps, method, class_a, class_b, self.forward(name)
        ):
            if len(frames) < int(steps):
                yield act.partial_strip(frames, int(steps)), None, None
        from ..sampling import image_grid
        from .media import write_gif, write_mp4

        stem = self.exports.new_stem(f"{name.replace('/', '_')}-seeds-{int(seed_a)}-{int(seed_b)}-{method}")
        gif = write_gif(frames, stem.with_suffix(".gif"), fps=act.ANIMATION_FPS)
        mp4 = write_mp4(frames, stem.with_suffix(".mp4"), fps=act.ANIMATION_FPS)
        yield image_grid(frames, nrow=len(frames)), str(gif), [str(gif), str(mp4)]

    @user_errors
    def class_grid(self, name, columns, start_seed):
        return act.class_grid_image(self.catalog.load(name), columns, start_seed)

    @user_errors
    def compare(self, names, seed, count):
        names = [n for n in (names or []) if n]
        if not act.COMPARE_RANGE[0] <= len(names) <= act.COMPARE_RANGE[1]:
            raise act.InputError(
                f"pick {act.COMPARE_RANGE[0]} to {act.COMPARE_RANGE[1]} models to compare, got {len(names)}"
            )
        return act.compare_grids([(n, self.catalog.load(n)) for n in names], seed, count)

    # ---- live score ------------------------------------------------------------------------------
    @user_errors_stream
    def score(self, name, scorer_name, num_samples, batch_size, seed):
        from ..metrics.evaluate import reference_scores
        from .plots import histogram_figure, score_figure

        g = self.catalog.load(name)
        if g.config.is_vector:  # 2-D points: the published 2-D protocol instead of an image scorer
            yield from self.score_points(g, num_samples, batch_size, seed)
            return
        scorer = self.scorers.get(scorer_name)
        reference = act.inception_entries(reference_scores(scorer_name))
        card = [e for e in act.inception_entries(g.metrics) if e.get("scorer") == scorer_name]
        points: list[tuple[int, float, float]] = []  # every update's, drawn or not
        stream = act.score_stream(g, scorer, num_samples, batch_size, seed)
        for update in drawn(stream, lambda u: points.append((u.n, u.mean, u.standard_error))):
            figure = score_figure(
                points,
                update.total,
                f"{act.score_kind(scorer_name)}@n ({scorer_name})",
                reference=reference[0]["mean"] if reference else None,
                card=card[0]["mean"] if card else None,
            )
            histogram = histogram_figure(update.histogram, [str(k) for k in range(len(update.histogram))])
            yield (
                act.score_markdown(update, scorer_name, reference, card),
                figure,
                histogram,
                act.score_payload(update, scorer_name, int(seed), int(batch_size)),
                progress(update),
            )
        release_free_memory()  # a score allocates the most (batches of images through the scorer)

    def score_points(self, g, num_samples, batch_size, seed):
        """The Score tab's updates for a 2-D model: modes captured@n as the points stream, per-mode counts."""
        from . import point_scores as ps
        from .plots import histogram_figure, score_figure

        card = ps.card_scores(g.metrics)
        captured: list[tuple[int, float, float]] = []  # the drawn updates' (a count has no error band)
        reference = None
        for update in drawn(ps.points_stream(g, num_samples, batch_size, seed)):
            captured.append((update.n, update.scores[ps.CAPTURED], 0.0))
            reference = reference or ps.reference_scores(g.config.dataset, update.total, int(seed))
            figure = score_figure(
                captured,
                update.total,
                f"modes captured@n ({update.scores['mixture']})",
                reference=reference[ps.CAPTURED],
                card=card[ps.CAPTURED]["value"] if ps.CAPTURED in card else None,
            )
            histogram = histogram_figure(
                update.per_mode,
                [str(k) for k in range(len(update.per_mode))],
                title=f"high-quality points nearest each mode ({sum(update.per_mode)} of {update.n})",
                x_label="mode",
            )
            yield (
                ps.points_markdown(update, int(seed), reference, card),
                figure,
                histogram,
                ps.points_payload(update, int(seed), int(batch_size)),
                progress(update),
            )


def drawn(updates: Iterable, on_each: Callable | None = None) -> Iterator:
    """The score updates worth drawing: the first, the last, and others at most every SCORE_UPDATE_SECONDS
    (measured from when the page took the previous one); ``on_each`` sees every update."""
    last_drawn = None
    for update in updates:
        if on_each is not None:
            on_each(update)
        if update.final or last_drawn is None or time.monotonic() - last_drawn >= SCORE_UPDATE_SECONDS:
            yield update
            last_drawn = time.monotonic()


def progress(update) -> str:
    return "**Done.**" if update.final else f"Scoring… {update.n} of {update.total}; **Stop** ends it here."


__all__ = ["ALL", "App", "ScorerCache", "model_summary", "user_error", "user_errors", "user_errors_stream"]
