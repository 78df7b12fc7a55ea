"""The ground floor: counter-based random numbers, the model's constants, a prefetch for kernels.

Nothing here imports from the rest of scoresim; every other floor may import from here.
"""
