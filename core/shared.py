"""What every in-process model shares: one registry that creates each model once per process, and
where models run. Neither core.models nor core.llm owns it, so neither imports the other for it.

`shared(key, factory)`: every encoder, classifier head and language model is created on first use
and then shared by every page, session and thread.
"""
from __future__ import annotations

import threading
from typing import Callable, Hashable, TypeVar

T = TypeVar("T")
_registry: dict[Hashable, object] = {}
_lock = threading.RLock()  # re-entrant: a factory may itself ask for a shared model


def shared(key: Hashable, factory: Callable[[], T]) -> T:
    """The object registered under key, created by factory the first time it is asked for."""
    with _lock:
        if key not in _registry:
            _registry[key] = factory()
        return _registry[key]  # type: ignore[return-value]


def quiet_transformers() -> None:
    """Progress bars and load reports belong in a terminal session, not in the app's logs."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def device() -> str:
    """Where models run: the GPU when there is one, else the CPU."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"
