"""When a measured wall-time speed-up of the real early exit is no result.

A step-by-step pass does the work of its sample-steps and at least the fixed cost of
each step it runs, so it cannot beat the full-T pass by much more than the step ratio
T / t*. A little more is real: fewer samples per step fit caches better. On a quiet
2-core AMD EPYC, with each timing job alone, the 72 timings of each of two default runs
came within 0.54 to 1.20 times T / t*, the highest for SpikeCP on digits-dvs in every
seed; hence :data:`STEP_RATIO_MARGIN`. A wall-time speed-up beyond that margin and
beyond the noise of the timer itself means the machine was busier while the full-T pass
ran (a busy machine once gave 5.60× for 2.50× fewer steps).
"""

from __future__ import annotations

STEP_RATIO_MARGIN = 0.25


def wall_flagged(speedup, step_ratio, noise):
    """Whether wall-time speed-up ``speedup`` exceeds ``step_ratio`` by more than the
    relative timing ``noise`` and :data:`STEP_RATIO_MARGIN`: a bool for numbers, and
    element by element for arrays or columns."""
    return speedup > step_ratio * (1 + noise + STEP_RATIO_MARGIN)
