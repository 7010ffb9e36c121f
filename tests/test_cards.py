"""Model cards tell how: each zoo card is the current template's rendering, its usage section opens with
the install line and a three-line load-and-sample example, and every code block in it runs as written
against the model published under the card's repo id (on the loopback Hub)."""

import re
import shlex
from pathlib import Path

import pytest
import torch

from gan_hub import Generator
from gan_hub.cli import main as gan_hub

ZOO = Path(__file__).resolve().parents[1] / "model_zoo"
MODELS = sorted(p.name for p in ZOO.iterdir() if (p / "config.json").is_file())
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def usage_blocks(card: str) -> list[tuple[str, str]]:
    section = card.split("\n## Use it\n", 1)[1].split("\n## ", 1)[0]
    return BLOCK.findall(section)


def test_zoo_has_models():
    assert {"dcgan-mnist", "cgan-mnist"} <= set(MODELS)


@pytest.mark.parametrize("name", MODELS)
def test_zoo_card_is_the_template_rendering(name):
    g = Generator.from_pretrained(ZOO / name)
    assert (ZOO / name / "README.md").read_text() == str(g.generate_model_card()), (
        f"model_zoo/{name}/README.md is stale: re-render it with gan-hub score --update-model or generate_model_card()"
    )


@pytest.mark.parametrize("name", MODELS)
def test_usage_opens_with_install_line_and_three_line_example(name):
    blocks = usage_blocks((ZOO / name / "README.md").read_text())
    (lang0, install), (lang1, example) = blocks[:2]
    assert (lang0, install) == ("bash", "pip install gan-hub\n")
    lines = example.strip().splitlines()
    assert lang1 == "python" and len(lines) == 3
    assert lines[0] == "from gan_hub import Generator"
    samples = "points" if Generator.from_pretrained(ZOO / name).config.is_vector else "images"
    assert lines[1].startswith("g = Generator.from_pretrained(") and lines[2].startswith(f"{samples} = g.generate(")


@pytest.mark.parametrize("name", MODELS)
def test_card_code_runs_as_written(name, hub_env, tmp_path, monkeypatch, capsys):
    folder = ZOO / name
    card = (folder / "README.md").read_text()
    repo_id = re.search(r'Generator\.from_pretrained\("([^"]+)"\)', card).group(1)
    assert gan_hub(["push", str(folder), repo_id]) == 0  # publish the zoo folder under the card's repo id
    assert f"pushed {folder} to {repo_id}" in capsys.readouterr().out

    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for lang, code in usage_blocks(card):
        if lang == "python":
            exec(compile(code, f"{name}/README.md", "exec"), namespace)  # noqa: S102  (our own card's code)
        else:
            for line in code.strip().splitlines():
                if line.startswith("gan-hub "):
                    assert gan_hub(shlex.split(line)[1:]) == 0, line
                else:
                    assert line == "pip install gan-hub"  # checked against the built wheel in test_install.py
    config = Generator.from_pretrained(folder).config
    if config.is_vector:  # 2-D points
        shape, dtype, samples = (config.channels,), torch.float32, namespace["points"]
    else:
        shape = (config.channels, config.image_size, config.image_size)
        dtype, samples = torch.uint8, namespace["images"]
    assert samples.dtype == dtype and tuple(samples.shape) == (16, *shape)
    assert torch.equal(
        samples, Generator.from_pretrained(folder).generate(16, seed=0, labels=[0] * 16 if config.conditional else None)
    )
    assert tuple(namespace["frames"].shape) == (8, *shape)
    written = re.search(r"^gan-hub sample .* -o (\S+)$", card, re.MULTILINE).group(1)
    assert (tmp_path / "samples.png").is_file() and (tmp_path / written).is_file()


def test_template_renders_usage_for_unconditional_and_conditional_models():
    from gan_hub.cards import render_model_card
    from gan_hub.config import GeneratorConfig

    for num_classes in (0, 5):
        config = GeneratorConfig(variant="gan", arch="mlp", latent_dim=8, num_classes=num_classes, dataset="mnist")
        blocks = usage_blocks(str(render_model_card(config, None, repo_hint="org/tiny")))
        code = "\n".join(c for lang, c in blocks if lang == "python")
        assert 'Generator.from_pretrained("org/tiny")' in code
        assert ("labels=[0] * 16" in code) == bool(num_classes) and ("label_b=4" in code) == bool(num_classes)
        assert ("bash", "gan-hub sample org/tiny -n 64 --seed 0 -o grid.png\n") in blocks


def test_template_renders_usage_for_2d_models():
    from gan_hub.cards import render_model_card
    from gan_hub.config import GeneratorConfig

    def points_model(dataset: str) -> GeneratorConfig:
        return GeneratorConfig(
            variant="gan", arch="pacgan-mlp", latent_dim=2, channels=2, image_size=0, dataset=dataset
        )

    card = str(render_model_card(points_model("grid25"), None))
    blocks = usage_blocks(card)
    code = "\n".join(c for lang, c in blocks if lang == "python")
    assert 'Generator.from_pretrained("gan-hub/gan-grid25")' in code and "uint8" not in card
    assert "points = g.generate(16, seed=0)  # float32 points [16, 2]" in code
    assert ("bash", "gan-hub sample gan-hub/gan-grid25 -n 2500 --seed 0 -o scatter.png\n") in blocks
    assert "over the 25 modes of the data" in card
    ring = str(render_model_card(points_model("ring8-unit"), None))
    assert 'from_pretrained("gan-hub/gan-ring8")' in ring  # the zoo's short name
