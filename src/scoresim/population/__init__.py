"""Synthetic populations from aggregate parameters: people, and the multiplex network."""

from .layers import Network, build_network
from .people import People, build_people

__all__ = ["Network", "People", "build_network", "build_people"]
