"""What the app (and the README) says about each model: its record for GET /v1/models, and the leaderboard.

Everything comes from the model's own files (config.json, metrics.json, README.md), read without
loading weights. A record never names a server path: local models say ``"source": "local"``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..quality_bar import VARIANT_SCORE_METRICS  # a variant's own scores: one text column
from .catalog import Catalog, CatalogError, ModelEntry

# (metric key in metrics.json, column title, higher is better); scores from a scorer other than the
# Inception network go to "classifier ..." columns: a classifier score is never an Inception Score.
LEADERBOARD_METRICS = (
    ("inception_score", "IS", True),
    ("fid", "FID", False),
    ("kid", "KID", False),
    ("modes_covered", "classes covered", True),
    ("kl_to_uniform", "KL to uniform", False),
    ("accuracy", "label agreement", True),
    # the 2-D mixtures' protocol (gan_hub.metrics.modes.mixture_scores)
    ("modes_captured", "modes captured", True),
    ("high_quality_share", "high quality", True),
    ("reverse_kl", "reverse KL", False),
    ("modes_covered_strict", "modes covered (strict)", True),
)
SCORED_BY_NETWORK = ("inception_score", "fid", "kid")
TEXT_COLUMNS = ("quality bar", "variant score")
COMMON_PROTOCOL = ("scorer", "num_samples", "seed")
_VARIANT_LINE = re.compile(r"^#+\s*Variant(?: family)?:.*?\(([^)]*\d{4}[^)]*)\)", re.MULTILINE)
_PAPER_URL = re.compile(r"Paper:.*?<(https?://[^>\s]+)>", re.DOTALL)


def paper_of(card: str | None) -> dict[str, str] | None:
    """{"citation": "Radford et al., 2015", "url": "https://arxiv.org/abs/..."} from a model card, or None."""
    if not card:
        return None
    citation, url = _VARIANT_LINE.search(card), _PAPER_URL.search(card)
    if not citation and not url:
        return None
    return {"citation": citation.group(1).strip() if citation else "", "url": url.group(1) if url else ""}


def protocol_keys() -> tuple[str, ...]:
    from ..cards import PROTOCOL_KEYS  # (gan_hub.cards imports torch through gan_hub.config: on first use)

    return PROTOCOL_KEYS


def protocol_text(entry: dict) -> str:
    from ..cards import score_protocol

    return score_protocol(entry)


def score_value(entry: dict) -> float | None:
    value = entry.get("mean", entry.get("value"))
    return float(value) if isinstance(value, (int, float)) else None


def scores_with_protocol(metrics: dict | None) -> list[dict[str, Any]]:
    """metrics.json's scores, each with a one-line ``protocol`` (scorer, n, splits, seed, reference)."""
    out = []
    for entry in (metrics or {}).get("scores", []):
        if isinstance(entry, dict) and score_value(entry) is not None:
            out.append({**entry, "protocol": protocol_text(entry)})
    return out


def _source(entry: ModelEntry) -> dict[str, str]:
    return {"source": "local"} if entry.is_local else {"source": "hub", "repo_id": entry.source}


def model_record(catalog: Catalog, name: str) -> dict[str, Any]:
    """One model's JSON record: config summary, paper, scores with protocol (or an error, path-free)."""
    record: dict[str, Any] = {
        "name": name,
        **_source(catalog.entry(name)),
        "samples_url": f"/v1/models/{name}/samples.png",
    }
    try:
        config = catalog.config(name)
        metrics = catalog.metrics(name)
        card = catalog.card(name)
    except (CatalogError, ValueError, OSError):
        return {**record, "error": "this model's files cannot be read"}
    summary = {
        k: getattr(config, k)
        for k in ("variant", "arch", "dataset", "latent_dim", "num_classes", "class_names", "image_size", "channels")
    }
    return {
        **record,
        **summary,
        "conditional": config.conditional,
        "paper": paper_of(card),
        "scores": scores_with_protocol(metrics),
    }


def column_title(entry: dict) -> str:
    title = next(t for key, t, _ in LEADERBOARD_METRICS if key == entry.get("metric"))
    classifier = entry.get("metric") in SCORED_BY_NETWORK and not str(entry.get("scorer", "")).startswith("inception")
    return f"classifier {title}" if classifier else title


def _protocol(entries: list[dict]) -> str:
    """The protocol of a model's leaderboard scores: what they share once, then what each adds."""
    shared = {
        k: entries[0][k] for k in COMMON_PROTOCOL if k in entries[0] and all(e.get(k) == entries[0][k] for e in entries)
    }
    parts = [", ".join(f"{k}={v}" for k, v in shared.items())] if shared else []
    for e in entries:
        extra = {k: v for k, v in e.items() if k in protocol_keys() and k not in shared}
        if extra:
            parts.append(f"{column_title(e)}: " + ", ".join(f"{k}={v}" for k, v in extra.items()))
    return "; ".join(parts)


def leaderboard_row(record: dict[str, Any]) -> dict[str, Any]:
    """A flat row: model, variant, paper, dataset, one number per score column, and the protocol."""
    paper = record.get("paper") or {}
    row: dict[str, Any] = {
        "model": record["name"],
        "variant": record.get("variant", "?"),
        "paper": paper.get("citation", ""),
        "dataset": record.get("dataset") or "unspecified",
    }
    known = {key for key, _, _ in LEADERBOARD_METRICS}
    entries = []
    for entry in record.get("scores", []):
        title = column_title(entry) if entry.get("metric") in known else None
        if title and title not in row:  # the first entry of a kind is the headline one
            row[title] = round(score_value(entry), 5 if entry["metric"] == "kid" else 4)
            entries.append(entry)
    if row["dataset"] == "mnist":
        from ..quality_bar import check

        row["quality bar"] = check(record.get("scores", []), bool(record.get("conditional"))).summary(short=True)
    own = [e for e in record.get("scores", []) if e.get("metric") in VARIANT_SCORE_METRICS]
    row["variant score"] = "; ".join(f"{e['name']} {score_value(e):.4g} ({protocol_text(e)})" for e in own)
    row["protocol"] = (
        _protocol(entries) if entries else ("cannot read this model" if "error" in record else "no scores reported")
    )
    return row


def score_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The score columns that at least one model reports, in LEADERBOARD_METRICS order."""
    titles = [t for _, base, _ in LEADERBOARD_METRICS for t in (base, f"classifier {base}")]
    return [t for t in titles if any(r.get(t) is not None for r in rows)]


def higher_is_better(title: str) -> bool:
    return next(high for _, base, high in LEADERBOARD_METRICS if title in (base, f"classifier {base}"))


def leaderboard(records: list[dict[str, Any]], sort_by: str | None = None) -> list[dict[str, Any]]:
    """Rows sorted by ``sort_by`` (default: the first score column), best first; models without it last."""
    rows = [leaderboard_row(r) for r in records]
    columns = score_columns(rows)
    sort_by = sort_by or (columns[0] if columns else None)
    if sort_by not in columns:
        return rows
    sign = -1 if higher_is_better(sort_by) else 1
    return sorted(rows, key=lambda r: (r.get(sort_by) is None, sign * (r.get(sort_by) or 0)))


def markdown_leaderboard(zoo_dir: str | Path) -> str:
    """The README's leaderboard for every model of ``zoo_dir``, rendered from their own files: one table
    per dataset (MNIST first), since each is scored on its own metrics."""
    catalog = Catalog(zoo_dir=zoo_dir)
    records = [model_record(catalog, n) for n in catalog.names]
    datasets = sorted({r.get("dataset") or "unspecified" for r in records}, key=lambda d: (d != "mnist", d))
    tables = [_markdown_table([r for r in records if (r.get("dataset") or "unspecified") == d]) for d in datasets]
    if len(datasets) > 1:
        tables = [f"**{d}**\n\n{t}" for d, t in zip(datasets, tables)]
    return "\n\n".join(tables)


def _markdown_table(records: list[dict[str, Any]]) -> str:
    rows = leaderboard(records)
    titles = score_columns(rows)
    texts = [t for t in TEXT_COLUMNS if any(r.get(t) for r in rows)]
    shared = common_protocol(rows)
    head = ["samples", "model", "variant", "paper", *titles, *texts, "protocol"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for row in rows:
        folder = f"model_zoo/{row['model']}"
        cells = [
            f'<img src="{folder}/samples.png" width="48" alt="{row["model"]} samples">',
            f"[{row['model']}]({folder})",
            f"`{row['variant']}`",
            row["paper"],
        ]
        cells += ["" if row.get(t) is None else f"{row[t]:g}" for t in titles]
        cells += [row.get(t) or "" for t in texts]
        lines.append("| " + " | ".join(cells + [own_protocol(row, shared)]) + " |")
    from ..quality_bar import zoo_summary

    bars = zoo_summary(
        [(r["name"], bool(r.get("conditional")), r.get("scores", [])) for r in records if r.get("dataset") == "mnist"]
    )
    intro = f"Every score's protocol unless its row says otherwise: {shared}.\n\n" if shared else ""
    return intro + "\n".join(lines) + (f"\n\n{bars}" if bars else "")


def common_protocol(rows: list[dict[str, Any]]) -> str:
    """The protocol most rows share (said once above a table), or "" when none is shared by two rows."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["protocol"]] = counts.get(row["protocol"], 0) + 1
    best = max(counts, key=counts.get, default="")
    return best if counts.get(best, 0) > 1 else ""


def own_protocol(row: dict[str, Any], shared: str) -> str:
    return "as above" if shared and row["protocol"] == shared else row["protocol"]


START, END = "<!-- leaderboard:start -->\n", "\n<!-- leaderboard:end -->"


def space_models(zoo_dir: str | Path, org: str = "gan-hub") -> list[str]:
    """The Hub repo ids of the zoo's models, as the Space's front matter lists them (``ORG/<name>``)."""
    return [f"{org}/{name}" for name in Catalog(zoo_dir=zoo_dir).names]


def update_readme(readme: str, zoo_dir: str | Path) -> str:
    """``readme`` with its leaderboard block and its front matter's ``models:`` list rendered from ``zoo_dir``."""
    if START not in readme or END not in readme:
        raise ValueError(f"the README has no {START.strip()} ... {END.strip()} block")
    head, rest = readme.split(START, 1)
    readme = head + START + markdown_leaderboard(zoo_dir) + END + rest.split(END, 1)[1]
    _, front, body = readme.split("---\n", 2)
    listed = "".join(f"  - {repo}\n" for repo in space_models(zoo_dir))
    front = re.sub(r"(?m)^models:\n(?:  - .*\n)*", lambda _: "models:\n" + listed, front)
    return f"---\n{front}---\n{body}"


if __name__ == "__main__":  # python -m gan_hub.app.leaderboard [ZOO] [--write README.md]
    import sys

    from .catalog import DEFAULT_ZOO

    args = [a for a in sys.argv[1:] if a != "--write"]
    zoo = args[0] if args else DEFAULT_ZOO
    if "--write" in sys.argv[1:]:
        target = Path(args[1] if len(args) > 1 else "README.md")
        target.write_text(update_readme(target.read_text(), zoo))
        print(f"updated the leaderboard and the Space's models in {target}")
    else:
        print(markdown_leaderboard(zoo))

__all__ = [
    "LEADERBOARD_METRICS",
    "leaderboard",
    "leaderboard_row",
    "markdown_leaderboard",
    "model_record",
    "paper_of",
    "score_columns",
    "scores_with_protocol",
]
