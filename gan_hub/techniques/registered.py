"""Imports every technique module so that each registers its switch in TECHNIQUES."""
