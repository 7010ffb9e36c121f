"""Which models the app offers, and loading them on demand with a bounded LRU cache.

A catalog is built from the bundled ``model_zoo/`` (every subfolder holding a ``config.json``)
plus extra sources: local folders or Hugging Face Hub repo ids. Nothing is loaded up front;
``Catalog.load(name)`` builds the generator the first time it is asked for and keeps at most
``cache_size`` generators in memory, dropping the least recently used one.

What a visitor may add while the app runs (``Catalog.add``) is narrower than what the operator lists:
Hub repo ids, and local folders only inside the roots the operator allows (``allowed_roots``,
env ``GAN_HUB_ALLOWED_ROOTS``); a refusal never says whether a server path exists.
"""

from __future__ import annotations

import functools
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import GeneratorConfig
    from ..hub import Generator

# gan_hub.config.CONFIG_NAME, spelled here so that listing the zoo imports neither gan_hub.config nor torch
# (tests/test_app_http.py checks that the two agree)
CONFIG_NAME = "config.json"

DEFAULT_ZOO = Path(__file__).resolve().parents[2] / "model_zoo"
DEFAULT_CACHE_SIZE = 4
MAX_MODELS = 64  # models a catalog offers at most (the zoo, --models and those added in the app)
ENV_MODELS = "GAN_HUB_MODELS"
ENV_ALLOWED_ROOTS = "GAN_HUB_ALLOWED_ROOTS"  # os.pathsep-separated folders a visitor may add models from
HUB_TIMEOUT = 5.0  # s: a Hub search or download that has not answered by then is reported as failed
HUB_LIBRARY = "gan-hub"  # the library_name in our model cards: what a Hub search filters on

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n.*?\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def _hub():
    """gan_hub.hub (and torch) on first use: the first page of the app needs neither."""
    from .. import hub

    return hub


def load_config(folder: Path) -> GeneratorConfig:
    from ..config import GeneratorConfig

    return GeneratorConfig.load(folder)


@functools.cache
def _samples_image() -> re.Pattern:
    """Markdown images that point at the repo's own samples.png: the app shows that file beside the card."""
    return re.compile(
        r"^[ \t]*!\[[^\]]*\]\(\s*(?:\./)?" + re.escape(_hub().SAMPLES_NAME) + r"\s*\)[ \t]*(?:\r?\n(?:[ \t]*\r?\n)?)?",
        re.MULTILINE,
    )


class CatalogError(ValueError):
    """A model source that cannot be offered, or a name the catalog does not know."""


@dataclass(frozen=True)
class ModelEntry:
    name: str  # what the model dropdown shows; unique within a catalog
    source: str  # a local folder or a Hub repo id

    @property
    def is_local(self) -> bool:
        return Path(self.source).is_dir()


def local_zoo() -> Path:
    """The checkout's model_zoo/ when gan_hub runs from a checkout, else ./model_zoo (an installed package has none)."""
    return DEFAULT_ZOO if DEFAULT_ZOO.is_dir() else Path("model_zoo")


def discover_models(zoo_dir: str | Path | None) -> list[Path]:
    """Subfolders of ``zoo_dir`` that hold a config.json, sorted by name; [] when there is no zoo."""
    if zoo_dir is None:
        return []
    zoo = Path(zoo_dir)
    if not zoo.is_dir():
        return []
    return sorted(p for p in zoo.iterdir() if p.is_dir() and (p / CONFIG_NAME).is_file())


def parse_sources(value: str | Iterable[str] | None) -> list[str]:
    """Comma-separated (or listed) sources -> stripped, non-empty, first occurrence kept."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else [s for item in value for s in str(item).split(",")]
    return list(dict.fromkeys(s.strip() for s in items if s.strip()))


def looks_like_path(source: str) -> bool:
    """True for things that can only be a folder (a Hub repo id is ``name`` or ``org/name``)."""
    return source.startswith((".", "/", "~")) or source.count("/") > 1 or "\\" in source


def card_body(markdown: str) -> str:
    """A model card's README.md as shown in the app: YAML front matter and the samples.png image removed."""
    body = _FRONT_MATTER.sub("", markdown.lstrip("\ufeff"), count=1)
    return _samples_image().sub("", body).strip()


def build_entries(sources: str | Iterable[str], zoo_dir: str | Path | None) -> list[ModelEntry]:
    """The zoo's folders first, then the extra sources; duplicates dropped, names made unique."""
    raw: list[str] = [str(p) for p in discover_models(zoo_dir)]
    seen_folders = {Path(p).resolve() for p in raw}
    for source in parse_sources(sources):
        path = Path(source).expanduser()
        if path.is_dir():
            if not (path / CONFIG_NAME).is_file():
                raise CatalogError(f"{source} has no {CONFIG_NAME}: it is not a gan-hub model folder")
            if path.resolve() in seen_folders:
                continue
            seen_folders.add(path.resolve())
            raw.append(str(path))
        elif path.exists() or looks_like_path(source):
            raise CatalogError(f"model folder {source} does not exist")
        else:
            raw.append(source)  # a Hub repo id, resolved when first used
    entries: list[ModelEntry] = []
    names: set[str] = set()
    for source in raw:
        short = Path(source).name if Path(source).is_dir() else source
        name = short if short not in names else source
        if name in names:  # only when the same folder is reachable under two spellings
            continue
        names.add(name)
        entries.append(ModelEntry(name, source))
    return entries


def check_repo_id(source: str) -> None:
    """CatalogError unless ``source`` is a well-formed Hub repo id (``org/name`` or ``name``)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(source)
    except HFValidationError as err:
        raise CatalogError(f"{source!r} is neither a model folder nor a valid Hub repo id (org/name): {err}") from None


def within_deadline(fn: Callable, seconds: float, what: str):
    """``fn()``, or CatalogError if it has not returned within ``seconds``.

    huggingface_hub retries a failing connection for about 25 s; the call goes on in a daemon thread
    (bounded by those retries) while the visitor gets an answer now.
    """
    future: Future = Future()

    def run():
        try:
            future.set_result(fn())
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            future.set_exception(err)

    threading.Thread(target=run, name="gan-hub-hub-call", daemon=True).start()
    try:
        return future.result(seconds)
    except TimeoutError:
        raise CatalogError(f"{what}: the Hub did not answer within {seconds:g} s (is this machine offline?)") from None


def search_hub(
    query: str | None = None, library: str = HUB_LIBRARY, limit: int = 50, timeout: float = HUB_TIMEOUT
) -> list[str]:
    """Repo ids of the Hub's models made with gan-hub (their card's library_name), newest first."""
    import httpx2  # the HTTP client of huggingface_hub 2.x
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    def search():
        # the Hub tags every model with its card's library_name, so the library is a tag filter
        models = HfApi().list_models(
            filter=library, search=(query or "").strip() or None, limit=limit, sort="last_modified"
        )
        return [m.id for m in models]

    try:
        return within_deadline(search, timeout, "cannot search the Hub")
    except (HfHubHTTPError, OfflineModeIsEnabled, httpx2.HTTPError, OSError) as err:
        raise CatalogError(f"cannot search the Hub ({type(err).__name__}: {err}); type a repo id instead") from None


def download_repo(repo_id: str, timeout: float = HUB_TIMEOUT) -> Path:
    """A Hub repo's model files in the local cache (never a local folder, whatever the id looks like)."""
    import httpx2
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    from ..hub import HUB_FILES

    try:
        return Path(
            within_deadline(
                lambda: snapshot_download(repo_id, allow_patterns=HUB_FILES, etag_timeout=timeout),
                timeout,
                f"cannot download {repo_id!r}",
            )
        )
    except (RepositoryNotFoundError, RevisionNotFoundError):
        raise CatalogError(f"no Hub repo {repo_id!r} that this app can access") from None
    except (HfHubHTTPError, LocalEntryNotFoundError, OfflineModeIsEnabled, httpx2.HTTPError, OSError) as err:
        raise CatalogError(f"cannot download {repo_id!r} from the Hub ({type(err).__name__})") from None


def allowed_roots_from_env() -> list[Path]:
    return [Path(p) for p in os.environ.get(ENV_ALLOWED_ROOTS, "").split(os.pathsep) if p.strip()]


def folder_inside(source: str, roots: Iterable[Path]) -> Path | None:
    """The model folder ``source`` names if it lies inside one of ``roots`` (after resolving symlinks, no
    ``..``), holds a config.json whose real path is inside too; else None (for whatever reason)."""
    if not source or ".." in Path(source).parts:
        return None
    path = Path(source).expanduser()
    for root in (Path(r).expanduser().resolve() for r in roots):
        candidate = (path if path.is_absolute() else root / path).resolve()
        config = (candidate / CONFIG_NAME).resolve()
        if candidate.is_relative_to(root) and config.is_relative_to(root) and config.is_file():
            return candidate
    return None


class Catalog:
    """Named models with lazy, cached loading (thread-safe)."""

    def __init__(
        self,
        sources: str | Iterable[str] = (),
        zoo_dir: str | Path | None = DEFAULT_ZOO,
        cache_size: int = DEFAULT_CACHE_SIZE,
        loader: Callable[[str], Generator] | None = None,
        resolver: Callable[[str], Path] | None = None,
        allowed_roots: Iterable[str | Path] | None = None,
        downloader: Callable[[str], Path] = download_repo,
    ):
        """``allowed_roots``: folders a visitor may add models from (None: from GAN_HUB_ALLOWED_ROOTS;
        empty: Hub repo ids only)."""
        if cache_size < 1:
            raise CatalogError(f"cache_size must be at least 1, got {cache_size}")
        self.entries = build_entries(sources, zoo_dir)
        self.allowed_roots = [Path(r) for r in (allowed_roots_from_env() if allowed_roots is None else allowed_roots)]
        self._downloader = downloader
        self._configs: dict[str, GeneratorConfig] = {}
        self.cache_size = cache_size
        self._by_name = {e.name: e for e in self.entries}
        self._loader = loader or (lambda source: _hub().Generator.from_pretrained(source))
        self._resolver = resolver or (lambda source: _hub().resolve_model_folder(source))
        self._models: OrderedDict[str, Generator] = OrderedDict()
        self._folders: dict[str, Path] = {}
        self._lock = threading.RLock()

    # ---- names ---------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        return [e.name for e in self.entries]

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def entry(self, name: str | None) -> ModelEntry:
        if not name:
            raise CatalogError("no model selected" + ("" if self.entries else ": the catalog is empty (see --models)"))
        try:
            return self._by_name[name]
        except KeyError:
            raise CatalogError(f"unknown model {name!r}; available: {', '.join(self.names) or '(none)'}") from None

    # ---- files -----------------------------------------------------------------------------
    def folder(self, name: str) -> Path:
        """The model's folder (a Hub repo is downloaded to the local cache the first time)."""
        entry = self.entry(name)
        with self._lock:
            if name not in self._folders:
                try:
                    self._folders[name] = Path(self._resolver(entry.source))
                except (FileNotFoundError, ConnectionError, OSError) as err:
                    raise CatalogError(f"cannot open model {name!r}: {err}") from err
            return self._folders[name]

    def config(self, name: str) -> GeneratorConfig:
        """The model's config, read from config.json (once) without loading any weights."""
        if name not in self._configs:
            self._configs[name] = load_config(self.folder(name))
        return self._configs[name]

    def card(self, name: str) -> str | None:
        """The model card body (README.md without its front matter), or None when there is none."""
        path = self.folder(name) / _hub().CARD_NAME
        return card_body(path.read_text(encoding="utf-8")) if path.is_file() else None

    def metrics(self, name: str) -> dict:
        """The model's metrics.json ({} when it has none)."""
        path = self.folder(name) / _hub().METRICS_NAME
        if not path.is_file():
            return {}
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise CatalogError(f"{path} is not valid JSON ({err}): re-run the evaluation to rewrite it") from None

    def samples_path(self, name: str) -> Path | None:
        path = self.folder(name) / _hub().SAMPLES_NAME
        return path if path.is_file() else None

    # ---- adding models while the app runs -------------------------------------------------
    def add(self, source: str) -> str:
        """Offer one more model, as a visitor asks for it, and return its name.

        A Hub repo id is downloaded and checked now. A local folder is accepted only when the operator
        allows roots and it lies inside one; every refusal of a folder reads the same, so the answer never
        tells whether a path exists on the server. Adding a source already offered returns its name.
        """
        source = str(source or "").strip()
        if not source:
            raise CatalogError(
                "type a Hub repo id (org/name)"
                + (" or the path of a model folder inside the allowed folders" if self.allowed_roots else "")
            )
        with self._lock:
            folder = folder_inside(source, self.allowed_roots) if self.allowed_roots else None
            for entry in self.entries:
                if entry.source == source or (
                    folder is not None and entry.is_local and Path(entry.source).resolve() == folder
                ):
                    return entry.name
            if len(self.entries) >= MAX_MODELS:
                raise CatalogError(
                    f"this app offers at most {MAX_MODELS} models; restart it with the ones you need in --models"
                )
        local = folder is not None
        if not local:
            if looks_like_path(source):
                raise CatalogError(self._refused_folder(source))
            try:
                check_repo_id(source)
            except CatalogError:
                raise CatalogError(self._refused_folder(source)) from None
            folder = self._downloader(source)  # outside the lock: the Hub may be slow
        try:
            load_config(folder)
        except (FileNotFoundError, OSError, ValueError) as err:
            raise CatalogError(f"cannot add {source!r}: {str(err).replace(str(folder), 'its folder')}") from None
        with self._lock:
            base, entry_source = (folder.name, str(folder)) if local else (source, source)
            name = base if base not in self._by_name else entry_source
            if name in self._by_name:
                name = f"{base} ({len(self.entries)})"
            entry = ModelEntry(name, entry_source)
            self.entries.append(entry)
            self._by_name[name] = entry
            self._folders[name] = folder
            return name

    def _refused_folder(self, source: str) -> str:
        if not self.allowed_roots:
            return (
                f"{source!r} is not a Hub repo id (org/name): this app adds models from the Hub only (its operator "
                f"can allow folders with --allow-folders or {ENV_ALLOWED_ROOTS})"
            )
        return f"{source!r} is neither a Hub repo id (org/name) nor a model folder inside the folders this app allows"

    # ---- generators ------------------------------------------------------------------------
    def load(self, name: str) -> Generator:
        """The generator for ``name``: from the LRU cache, else loaded (evicting the oldest if full)."""
        entry = self.entry(name)
        with self._lock:
            if name in self._models:
                self._models.move_to_end(name)
                return self._models[name]
            source = str(self._folders.get(name, entry.source))
            try:
                model = self._loader(source)
            except (FileNotFoundError, ConnectionError) as err:
                raise CatalogError(f"cannot load model {name!r}: {err}") from err
            self._models[name] = model
            while len(self._models) > self.cache_size:
                self._models.popitem(last=False)
            return model

    @property
    def loaded(self) -> list[str]:
        """Names of the generators in memory, least recently used first."""
        with self._lock:
            return list(self._models)
