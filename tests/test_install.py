"""Install gan-hub as a user would: build the wheel from a copy of the checkout, install it into fresh virtual
environments outside the repository (core only, then with [app]), and use it from another folder.

The fresh environments get their dependencies without a download: each sees, through a ``.pth`` file, a
folder of links to exactly the installed distributions that the wheel's declared requirements pull in
(resolved from their metadata, as pip would). Nothing else from the test's environment is visible, so a
run-time import of an undeclared package (gradio from the core, say) fails here as it would for a user;
pip then installs the wheel with ``--no-index``, checking every declared requirement against those links.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
NOT_IN_CHECKOUT_COPY = shutil.ignore_patterns(
    ".git",
    ".venv",
    "runs",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    "test-artifacts",
    "model_zoo",
)
NOT_CORE = {"gradio", "accelerate", "tensorboard", "matplotlib", "torch-fidelity", "av", "pandas", "pyyaml"}


def run(cmd, cwd, env=None, timeout=300) -> str:
    result = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, (
        f"{cmd} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the checkout, the way `pip install .` builds it (no model_zoo inside)."""
    work = tmp_path_factory.mktemp("build")
    shutil.copytree(ROOT, work / "src", ignore=NOT_IN_CHECKOUT_COPY)
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            work / "dist",
            work / "src",
        ],
        cwd=work,
    )
    (built,) = (work / "dist").glob("gan_hub-*.whl")
    return built


def requirements(wheel_path: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel_path) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        text = zf.read(name).decode()
    return [
        Requirement(line.split(":", 1)[1].strip()) for line in text.splitlines() if line.startswith("Requires-Dist:")
    ]


def wanted(req: Requirement, extras: set[str]) -> bool:
    if req.marker is None:
        return True
    return any(req.marker.evaluate({"extra": extra}) for extra in extras | {""})


def dependency_closure(reqs: list[Requirement], extras: set[str]) -> dict[str, metadata.Distribution]:
    """The installed distributions that ``reqs`` (with ``extras`` asked for) pull in, transitively."""
    found: dict[str, metadata.Distribution] = {}
    todo = [(r, extras) for r in reqs]
    while todo:
        req, asked = todo.pop()
        name = canonicalize_name(req.name)
        if not wanted(req, asked) or name == "gan-hub" or name in found:
            continue
        dist = metadata.distribution(req.name)  # PackageNotFoundError: a declared requirement is not installed
        found[name] = dist
        todo += [(Requirement(r), set(req.extras)) for r in dist.requires or []]
    return found


def fresh_venv(where: Path, dists: dict[str, metadata.Distribution]) -> Path:
    """A venv without pip whose only third-party packages are links to ``dists``; returns its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", where], check=True)
    links = where / "dependencies"
    links.mkdir()
    for dist in dists.values():
        for top in {Path(str(f)).parts[0] for f in dist.files or []} - {"..", "__pycache__"}:
            source = Path(dist.locate_file(top))
            if source.exists() and not (links / top).exists():
                (links / top).symlink_to(source)
    python = where / "bin" / "python"
    site = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=where).strip()
    Path(site, "dependencies.pth").write_text(f"{links}\n")
    return python


def user_env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV"))}
    return {
        **env,
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(tmp / "hf-home"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
    }


def pip_install(python: Path, requirement: str, wheel: Path, cwd: Path) -> None:
    """The cards' install line (`pip install gan-hub`), with our wheel as the only index."""
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            python,
            "install",
            "--no-index",
            "--find-links",
            wheel.parent,
            "-q",
            requirement,
        ],
        cwd=cwd,
    )


def user_folder(tmp: Path) -> Path:
    folder = tmp / "user"
    shutil.copytree(ROOT / "model_zoo" / "dcgan-mnist", folder / "dcgan-mnist")
    return folder


CORE_SCRIPT = r"""
import importlib.util, json, sys
from pathlib import Path
import gan_hub
from gan_hub import Generator
from gan_hub.metrics import load_scorer
from gan_hub.metrics.evaluate import evaluate_generator
g = Generator.from_pretrained("dcgan-mnist")
images = g.generate(16, seed=0)
g.save_pretrained("saved")                       # renders the model card from the packaged templates
scores = evaluate_generator(g, num_samples=200, seed=0, metrics=("is", "fid"))["scores"]  # shipped classifier + stats
print(json.dumps({"gan_hub": gan_hub.__file__, "sum": int(images.long().sum()), "shape": list(images.shape),
                  "card": Path("saved/README.md").read_text(), "scores": [s["name"] for s in scores],
                  "gradio_importable": importlib.util.find_spec("gradio") is not None,
                  "loaded": sorted(m for m in ("gradio", "accelerate", "tensorboard", "matplotlib") if m in
                  sys.modules)}))
"""


def test_core_install_from_another_folder(wheel, tmp_path):
    core = requirements(wheel)
    declared = {canonicalize_name(r.name) for r in core if r.marker is None}
    assert not declared & NOT_CORE, f"the core install must not pull {sorted(declared & NOT_CORE)}"
    dists = dependency_closure(core, set())
    assert "gradio" not in dists and "torch" in dists

    python = fresh_venv(tmp_path / "venv", dists)
    folder = user_folder(tmp_path)
    env = user_env(tmp_path)
    pip_install(python, "gan-hub", wheel, folder)

    result = json.loads(run([python, "-c", CORE_SCRIPT], cwd=folder, env=env))
    assert Path(result["gan_hub"]).is_relative_to(tmp_path / "venv")  # the installed copy, not the checkout
    assert not result["gradio_importable"] and result["loaded"] == []
    from gan_hub import Generator

    want = Generator.from_pretrained(ROOT / "model_zoo" / "dcgan-mnist").generate(16, seed=0)
    assert result["shape"] == [16, 1, 28, 28] and result["sum"] == int(want.long().sum())
    assert "pip install gan-hub" in result["card"] and result["scores"] == ["classifier IS@200", "classifier FID@200"]

    gan_hub = tmp_path / "venv" / "bin" / "gan-hub"
    assert "gan-hub sample" in run([gan_hub, "--help"], cwd=folder, env=env)
    out = run([gan_hub, "sample", "dcgan-mnist", "-n", "16", "--seed", "0", "-o", "grid.png"], cwd=folder, env=env)
    assert "wrote grid.png" in out and (folder / "grid.png").stat().st_size > 0
    app = subprocess.run(
        [gan_hub, "app"], cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert app.returncode == 1 and 'pip install "gan-hub[app]"' in app.stderr


APP_SCRIPT = r"""
import sys
from gan_hub.app import build_demo
demo = build_demo("", zoo_dir=".")
print(type(demo).__name__, "gradio" in sys.modules)
"""


def test_app_install_builds_the_app(wheel, tmp_path):
    dists = dependency_closure(requirements(wheel), {"app"})
    assert "gradio" in dists
    python = fresh_venv(tmp_path / "venv", dists)
    folder = user_folder(tmp_path)
    env = user_env(tmp_path)
    pip_install(python, "gan-hub[app]", wheel, folder)
    assert run([python, "-c", APP_SCRIPT], cwd=folder, env=env).split() == ["Blocks", "True"]
    assert "--models" in run([tmp_path / "venv" / "bin" / "gan-hub", "app", "--help"], cwd=folder, env=env)


def pinned(path: Path) -> dict[str, Requirement]:
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    reqs = [Requirement(line) for line in lines if line and not line.startswith("-")]
    return {canonicalize_name(r.name): r for r in reqs}


def test_pinned_requirements_satisfy_the_declared_ranges():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [
        Requirement(r)
        for group in [project["dependencies"], *project["optional-dependencies"].values()]
        for r in group
        if canonicalize_name(Requirement(r).name) != "gan-hub"
    ]
    pins = {**pinned(ROOT / "requirements.txt"), **pinned(ROOT / "requirements-dev.txt")}
    for req in declared:
        name = canonicalize_name(req.name)
        assert name in pins, f"{req} is declared in pyproject.toml but not in requirements*.txt"
        exact = [s.version for s in pins[name].specifier if s.operator == "=="]
        assert all(req.specifier.contains(v) for v in exact), f"requirements pin {pins[name]} is outside {req}"
    space = {
        canonicalize_name(Requirement(r).name)
        for r in project["dependencies"] + project["optional-dependencies"]["app"]
    }
    assert space <= set(pinned(ROOT / "requirements.txt"))  # a Space installs requirements.txt only, then runs app.py
