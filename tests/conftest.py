"""Shared pytest configuration: registers the loopback Hub server fixtures (hub_server, hub_env)."""

pytest_plugins = ["tests.hub_server"]


def two_process_launcher() -> list[str]:
    """`accelerate launch` for two CPU processes (a gloo group), on a free port so concurrent runs cannot collide."""
    import socket
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        "2",
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(port),
    ]


def with_discriminator_options(config, d_spectral_norm: bool = False, d_minibatch: dict | None = None):
    """A copy of a GeneratorConfig whose discriminator has the minibatch-discrimination and spectral-norm
    wrappers (in that order, as the techniques add them)."""
    import copy

    config = copy.deepcopy(config)
    if d_minibatch:
        config.discriminator.wrappers.append({"name": "minibatch_discrimination", **d_minibatch})
    if d_spectral_norm:
        config.discriminator.wrappers.append({"name": "spectral_norm"})
    return config
