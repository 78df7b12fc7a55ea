"""Synthetic populations from aggregate parameters: people, and the multiplex network."""

from ..network import Network
from .layers import build_network
from .people import People, build_people

__all__ = ["Network", "People", "build_network", "build_people"]
