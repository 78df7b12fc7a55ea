"""The package version (one place: the package API and every output read it here)."""

__version__ = "0.1.0"
