"""The eight stages of a day, one module each (see engine/day.py for their order)."""
