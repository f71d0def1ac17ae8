"""The one way spikecut attaches to a model's forward pass: hooks on the modules of a
type, removed however the block is left."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from torch import nn

Hook = Callable[[nn.Module, tuple, object], object]


@contextmanager
def forward_hooks(*pairs: tuple[Iterable[nn.Module], Hook]) -> Iterator[None]:
    """Register ``hook`` as a forward hook on every module of each (modules, hook) pair
    for the duration of the block."""
    handles = [m.register_forward_hook(hook) for modules, hook in pairs for m in modules]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def modules_of(model: nn.Module, kind: type | tuple[type, ...]) -> list[nn.Module]:
    """``model``'s modules of ``kind``, in order."""
    return [m for m in model.modules() if isinstance(m, kind)]
