"""Variant options (``variant_options`` in a YAML config, ``--variant-options`` on the command line):
they reach the variant's algorithm, e.g. the unrolled GAN's k, and bad ones are clear errors."""

import pytest

from train.cli import build_parser, config_from_args, list_variants_text, main
from train.config import TrainConfig, TrainConfigError


def trainer_for(tmp_path, **overrides):
    from train.trainer import Trainer

    cfg = TrainConfig(
        **{
            "variant": "unrolled",
            "dataset": "synthetic",
            "output_dir": str(tmp_path / "run"),
            "max_steps": 1,
            "batch_size": 4,
            "eval_samples": 0,
            "arch_kwargs": {"base_channels": 4},
            **overrides,
        }
    )
    return Trainer(cfg)


def test_unrolled_k_from_a_yaml_config_reaches_the_algorithm(tmp_path):
    config = tmp_path / "unrolled.yaml"
    config.write_text("variant: unrolled\ndataset: synthetic\nvariant_options:\n  unroll_steps: 2\n  unroll_lr: 0.05\n")
    cfg = TrainConfig.from_yaml(
        config, overrides={"output_dir": str(tmp_path / "run"), "batch_size": 4, "arch_kwargs": {"base_channels": 4}}
    )
    from train.trainer import Trainer

    algorithm = Trainer(cfg).algorithm
    assert (algorithm.unroll_steps, algorithm.unroll_lr) == (2, 0.05)
    assert trainer_for(tmp_path).algorithm.unroll_steps == 5  # the variant's default k without options
    assert cfg.to_dict()["variant_options"] == {"unroll_steps": 2, "unroll_lr": 0.05}  # recorded in provenance


def test_unrolled_k_on_the_command_line():
    args = build_parser().parse_args(["--variant", "unrolled", "--variant-options", '{"unroll_steps": 10}'])
    assert config_from_args(args).variant_options == {"unroll_steps": 10}


@pytest.mark.parametrize(
    "options, message",
    [
        ('{"unroll_steps": -1}', "unroll_steps must be a non-negative integer, got -1"),
        ('{"unroll_steps": 2.5}', "unroll_steps must be a non-negative integer, got 2.5"),
        ('{"unroll_lr": 0}', "unroll_lr must be positive"),
        ('{"k": 3}', "variant 'unrolled' has no option(s) ['k']; its options are: unroll_steps, unroll_lr"),
        ('{"unroll_steps": 3', "not valid JSON"),
        ("[3]", "must be a JSON object of option: value"),
    ],
)
def test_bad_variant_options_are_clear_errors(capsys, options, message):
    with pytest.raises(SystemExit):
        main(["--variant", "unrolled", "--dataset", "synthetic", "--variant-options", options])
    assert message in capsys.readouterr().err


def test_options_of_a_variant_without_any_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["--variant", "dcgan", "--dataset", "synthetic", "--variant-options", '{"unroll_steps": 3}'])
    assert "variant 'dcgan' has no option(s) ['unroll_steps']; its options are: (none)" in capsys.readouterr().err


def test_yaml_variant_options_must_be_a_mapping(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("variant: unrolled\nvariant_options: 5\n")
    with pytest.raises(TrainConfigError, match=r"variant_options \(--variant-options\) must be a mapping"):
        TrainConfig.from_yaml(config)


def test_list_variants_names_the_options():
    lines = {line.split()[0]: line for line in list_variants_text().splitlines()}
    assert "[options: unroll_steps, unroll_lr, unroll_optimizer]" in lines["unrolled"]
    assert "[options: num_labelled, unlabelled_weight, average_decay]" in lines["semi-supervised"]
    assert "[options: fade_steps, stable_steps]" in lines["progan"]
    assert "options" not in lines["dcgan"]
