"""The engine: counter-based randomness, state arrays, compiled parameters, the day's stages."""
