"""Hosted models a self-hosted one is compared with: the same size of open model on API providers,
and a closed model of similar quality, priced per request from genai-prices (input, cached input
where the provider discounts it, output)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from core.capacity.memory import ASSETS, Estimate


@dataclass(frozen=True)
class Offer:
    provider: str
    model: str
    label: str  # "Llama 3.3 70B Instruct (groq)"
    open: bool
    usd_per_request: float


@lru_cache(maxsize=1)
def _classes() -> list[dict]:
    return json.loads((ASSETS / "hosted_models.json").read_text())["classes"]


def size_class(params_b: float) -> dict:
    """The hosted class of a model of params_b billion parameters (every expert counted)."""
    return next(c for c in _classes() if params_b <= c["max_params_b"])


def price_request(provider: str, model: str, *, prompt: int, new: int, cached_share: float) -> tuple[str, float] | None:
    """(the model's name, dollars for one request), or None when genai-prices does not list it."""
    from genai_prices import Usage, calc_price

    usage = Usage(input_tokens=prompt, cache_read_tokens=round(prompt * cached_share), output_tokens=new)
    try:
        price = calc_price(usage, model, provider_id=provider)
    except (LookupError, ValueError):
        return None
    return (price.model.name or model), float(price.total_price)


def offers(est: Estimate, *, cached_share: float = 0.0) -> list[Offer]:
    """The open offers of the model's class, cheapest first, then the closed one."""
    work = est.workload
    group = size_class(est.params["total"] / 1e9)
    found = []
    for is_open, (provider, model) in [(True, entry) for entry in group["open"]] + [(False, group["closed"])]:
        priced = price_request(provider, model, prompt=work.prompt, new=work.new, cached_share=cached_share)
        if priced:
            found.append(Offer(provider, model, f"{priced[0]} ({provider})", is_open, priced[1]))
    return sorted(found, key=lambda offer: (not offer.open, offer.usd_per_request))


def break_even_per_day(replica_usd_month: float, replica_requests_month: float, usd_per_request: float) -> float | None:
    """Daily requests above which self-hosting costs less than the API; None when it never does.

    One set of GPUs costs the same all month up to its capacity; each further set adds the same step.
    So self-hosting wins from replica_usd / usd_per_request requests a month when that volume fits on
    one set, and then, on average, at every volume; otherwise a request costs more self-hosted at any volume."""
    if usd_per_request <= 0:
        return None
    volume = replica_usd_month / usd_per_request
    return volume / 30.4 if volume <= replica_requests_month else None
