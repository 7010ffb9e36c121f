"""Shared pytest configuration: registers the loopback Hub server fixtures (hub_server, hub_env)."""
pytest_plugins = ["tests.hub_server"]
