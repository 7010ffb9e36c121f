"""Push and pull through the unmodified huggingface_hub client against the loopback Hub server."""

import pytest
import torch
from huggingface_hub import HfApi

from gan_hub import Generator, GeneratorConfig
from tests.test_train import FAST, run_train


def small_generator(conditional: bool) -> Generator:
    torch.manual_seed(1)
    return Generator(
        GeneratorConfig(
            variant="cgan" if conditional else "dcgan",
            arch="dcgan",
            dataset="mnist",
            num_classes=10 if conditional else 0,
            arch_kwargs={"base_channels": 8},
        )
    )


@pytest.mark.parametrize("conditional", [False, True])
def test_push_then_from_pretrained_gives_identical_outputs(hub_env, conditional):
    g = small_generator(conditional)
    repo_id = hub_env.repo_id(f"push-{int(conditional)}")
    g.push_to_hub(repo_id)
    files = set(HfApi().list_repo_files(repo_id))
    assert {"config.json", "model.safetensors", "README.md", "samples.png"} <= files
    loaded = Generator.from_pretrained(repo_id)
    assert loaded.config == g.config
    assert torch.equal(loaded.generate(8, seed=5), g.generate(8, seed=5))


def test_unknown_repo_is_a_clear_error(hub_env):
    with pytest.raises(FileNotFoundError, match="neither a local folder nor a Hub repo"):
        Generator.from_pretrained("test-user/does-not-exist")


def test_trainer_pushes_its_export(hub_env, tmp_path):
    repo_id = hub_env.repo_id("trained")
    run_train("--variant", "dcgan", "--output-dir", str(tmp_path), "--max-steps", "2", *FAST, "--push-to-hub", repo_id)
    local = Generator.from_pretrained(tmp_path / "model")
    remote = Generator.from_pretrained(repo_id)
    assert "discriminator.safetensors" in HfApi().list_repo_files(repo_id)
    assert torch.equal(remote.generate(4, seed=0), local.generate(4, seed=0))
