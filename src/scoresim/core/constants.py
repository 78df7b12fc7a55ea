"""Constants shared by the floors above: one definition each."""

from __future__ import annotations

FIXED = 100  # fixed-point scale of scores and points (points x 100 in an int32)
NEVER = 2**31 - 1  # a day that never comes (int32's largest), e.g. a listing with no expiry
CHUNK = 65536  # agents per chunk of a sweep whose per-chunk integer totals are summed in order
BLOCK = 4096  # agents per block of the candidate-event walks (act, services): keyed by number
CAUSES = ("own", "false_match", "association")  # a penalty's or sanction's cause, in order
