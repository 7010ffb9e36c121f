"""Layers shared by architectures."""

from .conditioning import OneHotConcat, ProjectionHead

__all__ = ["OneHotConcat", "ProjectionHead"]
