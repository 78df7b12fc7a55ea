"""Scale: plans of memory and time before a big run."""
