"""The plan a person acts on: a verdict in plain words, the options when a model does not fit, the
hosted models of its class and the volume where self-hosting starts to pay, and the vLLM command.
`plan` is what `python -m core gpu` prints and the Capacity page shows."""

from __future__ import annotations

import re
from dataclasses import replace

from core.capacity.hosted import Offer, offers, size_class
from core.capacity.memory import (
    CUDA_CONTEXT_GIB,
    FRAGMENTATION,
    TP_BUFFER_GIB,
    WEIGHT_FORMATS,
    Architecture,
    Estimate,
    GiB,
    Workload,
    catalog,
    estimate,
    gpu_catalog,
    load_architecture,
)
from core.capacity.planner import cheapest_fit, finetune_cost, gpus_needed, monthly_cost, roofline
from core.capacity.serving import housing_notes, is_unified, needs_server, vllm_plan
from core.errors import UserError
from core.i18n import N_, Msg, render

# LoRA on cards of this size or smaller runs with gradient checkpointing, as people run it.
CHECKPOINTING_CARD_GIB = 24
DEFAULT_CACHED_SHARE = 0.3  # share of each prompt that repeats (instructions, brand profile) and is billed as cached input


def default_checkpointing(mode: str, gpu: dict | None) -> bool:
    """Gradient checkpointing as people fine-tune: always for QLoRA, for LoRA on 24 GB cards and smaller."""
    return mode == "qlora" or (mode == "lora" and gpu is not None and gpu["memory_gib"] <= CHECKPOINTING_CARD_GIB)


def _in_one_box(est: Estimate, gpu: dict) -> int | None:
    """GPUs of this kind that hold the work without a server of consumer cards; None when they cannot."""
    tp = gpus_needed(est, gpu)
    return tp if tp and not needs_server(gpu, tp) else None


def _family(name: str) -> str:
    match = re.match(r"[A-Za-z]+-?\d+", name)
    return match.group(0) if match else name


def _candidates(arch: Architecture, work: Workload, gpu_name: str, gpus: dict[str, dict]) -> list[tuple[str, Msg, Architecture, Workload, str]]:
    """(kind, what to change, architecture, workload, GPU) for each change worth trying."""
    out = []
    add = lambda kind, change, a=arch, w=work, g=gpu_name: out.append((kind, change, a, w, g))  # noqa: E731
    if work.mode == "inference":
        for fmt in ("int8", "awq"):
            if WEIGHT_FORMATS[fmt][0] < WEIGHT_FORMATS[work.dtype][0]:
                add("weights", Msg("load the weights in {format}", format="4-bit AWQ" if fmt == "awq" else "int8"), w=replace(work, dtype=fmt))
        if work.kv_dtype in ("bf16", "fp16", "fp32"):
            add("kv_cache", Msg("keep the KV cache in fp8"), w=replace(work, kv_dtype="fp8"))
        prompts = [p for p in (work.prompt // 2, work.prompt // 4, work.prompt // 8) if p >= 256]
        for prompt in prompts:
            add("context", Msg("shorten the prompt to {tokens} tokens", tokens=prompt), w=replace(work, prompt=prompt))
        batches = [b for b in (work.batch // 2, work.batch // 4, 1) if 1 <= b < work.batch]
    else:
        if work.mode != "qlora":
            add("qlora", Msg("fine-tune with QLoRA (4-bit frozen weights)"), w=replace(work, mode="qlora", dtype="bf16", grad_checkpointing=True))
        if not work.grad_checkpointing:
            add("checkpointing", Msg("turn on gradient checkpointing"), w=replace(work, grad_checkpointing=True))
        for seq in (work.seq // 2, work.seq // 4):
            if seq >= 256:
                add("context", Msg("train on sequences of {tokens} tokens", tokens=seq), w=replace(work, seq=seq))
        batches = [b for b in (work.batch // 2, 1) if 1 <= b < work.batch]
    for batch in dict.fromkeys(batches):
        add("batch", Msg("take {count} requests at once instead of {asked}", count=batch, asked=work.batch), w=replace(work, batch=batch))
    linked = [name for name, spec in gpus.items() if spec.get("link") == "nvlink" and name != gpu_name]
    for name in linked:
        add("gpus", Msg("use NVLink-linked {gpu} cards", gpu=name), g=name)
    models = catalog()
    family = [name for name in models if _family(name) == _family(arch.name) and name != arch.name]
    for name in family:
        smaller = load_architecture(model=name)
        if smaller.params()["total"] < arch.params()["total"]:
            add("model", Msg("use {model}, a smaller model of the same family", model=name), a=smaller)
    return out


def options(arch: Architecture, work: Workload, gpu_name: str, gpus: dict[str, dict], *, requests_per_day: float | None = None, **cost) -> list[dict]:
    """Changes that make the work fit in one box, each with its memory, GPUs, speed and monthly cost:
    the first change of each kind that works, lightest first (the largest smaller model, the cheapest linked GPUs)."""
    found: dict[str, dict] = {}
    for kind, change, a, w, name in _candidates(arch, work, gpu_name, gpus):
        try:
            est = estimate(a, w)
        except UserError:
            continue
        tp = _in_one_box(est, gpus[name])
        if not tp:
            continue
        row = {"kind": kind, "change": change, "model": a.name, "params_b": round(est.params["total"] / 1e9, 3), "gpu": name, "gpus_needed": tp}
        row["peak_gib"] = round(est.peak_gib, 2)
        if w.mode == "inference":
            row["decode_tokens_per_s"] = round(roofline(est, gpus[name], tp).decode_tokens_per_s, 1)
            if requests_per_day:
                row["monthly_usd"] = round(monthly_cost(est, gpus[name], tp, requests_per_day=requests_per_day, **cost).self_hosted_usd)
        previous = found.get(kind)
        if kind == "gpus" and previous and previous.get("monthly_usd", 0) <= row.get("monthly_usd", 0):
            continue
        if kind == "model" and previous and previous["params_b"] >= row["params_b"]:
            continue
        if kind in ("gpus", "model") or not previous:
            found[kind] = row
    return list(found.values())


def verdict_text(sentences: list, language: str) -> str:
    """The verdict's sentences as one paragraph in the reader's language (Chinese sentences run on without spaces)."""
    return ("" if language == "zh" else " ").join(render(sentence, language) for sentence in sentences)


def _money(usd: float) -> int:
    return round(usd)


def _serving_verdict(out: dict, arch: Architecture, work: Workload, requests_per_day: float | None) -> list[Msg]:
    gpu, cost, speed = out["gpu"], out.get("cost"), out["speed"]
    template = (
        N_("{model} fits on {count} x {gpu}: {speed} tokens a second for each of {users} users at once.")
        if work.batch > 1
        else N_("{model} fits on {count} x {gpu}: {speed} tokens a second for one user at a time.")
    )
    sentences = [Msg(template, model=arch.name, count=gpu["gpus_needed"], gpu=gpu["name"], speed=round(speed["decode_tokens_per_s"], 1), users=work.batch)]
    sentences += gpu["notes"]
    hosted = out["hosted"]
    if not hosted:
        sentences.append(Msg("No hosted model of its class has a price in genai-prices, so the comparison with an API is left out."))
        return sentences
    best = hosted[0]
    if cost and best.get("monthly_usd") is not None:
        self_hosted, api = cost["self_hosted_usd"], best["monthly_usd"]
        template = (
            N_("At {requests} requests a day, self-hosting is cheaper: ${self_hosted} a month against ${api} for {hosted}.")
            if self_hosted < api
            else N_("At {requests} requests a day, the API is cheaper: ${api} a month for {hosted} against ${self_hosted} self-hosted.")
        )
        sentences.append(Msg(template, requests=round(requests_per_day), self_hosted=_money(self_hosted), api=_money(api), hosted=best["label"]))
    if out["break_even_requests_per_day"] is None:
        sentences.append(Msg("Self-hosting never costs less than {hosted}, at any volume these GPUs can serve.", hosted=best["label"]))
    else:
        sentences.append(Msg("Self-hosting pays above {requests} requests a day.", requests=out["break_even_requests_per_day"]))
    closed = next((offer for offer in hosted if not offer["open"]), None)
    if closed and closed is not best:
        if closed["break_even_requests_per_day"] is None:
            sentences.append(Msg("Against {hosted}, a closed model of similar quality, it never pays.", hosted=closed["label"]))
        else:
            sentences.append(
                Msg(
                    "Against {hosted}, a closed model of similar quality, it pays above {requests} requests a day.",
                    hosted=closed["label"],
                    requests=closed["break_even_requests_per_day"],
                )
            )
    return sentences


def _training_verdict(out: dict, arch: Architecture, work: Workload) -> list[Msg]:
    gpu, run = out["gpu"], out.get("cost")
    mode = {"lora": "LoRA", "qlora": "QLoRA"}.get(work.mode) or Msg("full")
    sentences = [Msg("Fine-tuning {model} ({mode}) fits on {count} x {gpu}.", model=arch.name, mode=mode, count=gpu["gpus_needed"], gpu=gpu["name"])]
    if run:
        sentences.append(
            Msg(
                "A run of {tokens} tokens takes {hours} hours and costs ${usd}.",
                tokens=round(run["tokens"]),
                hours=round(run["hours"], 1),
                usd=round(run["cost_usd"], 2),
            )
        )
    if work.grad_checkpointing and work.mode != "full":
        saved = estimate(arch, replace(work, grad_checkpointing=False)).peak_gib - estimate(arch, work).peak_gib
        sentences.append(
            Msg(
                "Gradient checkpointing is on, as people run QLoRA, and LoRA on 24 GB cards: it saves {gib} GiB for about a third more compute.",
                gib=round(saved, 1),
            )
        )
    return sentences + gpu["notes"]


def _not_fit_verdict(arch: Architecture, gpu_name: str, gpu: dict, tp: int | None, found: list[dict]) -> list[Msg]:
    if tp:  # fits, but only on a server of consumer cards: the verdict has said so
        sentences = []
    elif is_unified(gpu):
        sentences = [Msg("{model} does not fit in the memory of {gpu}.", model=arch.name, gpu=gpu_name)]
    else:
        sentences = [Msg("{model} does not fit on {gpu}, even eight of them.", model=arch.name, gpu=gpu_name)]
    here = [row for row in found if row["gpu"] == gpu_name]
    if here:
        sentences.append(Msg("The smallest change that fits on {gpu}: {change}.", gpu=gpu_name, change=here[0]["change"]))
    elif found:
        sentences.append(Msg("It fits if you {change}.", change=found[0]["change"]))
    else:
        sentences.append(Msg("No change in the catalog makes it fit: a larger cluster than one server is needed."))
    return sentences


def plan(
    arch: Architecture,
    workload: Workload,
    *,
    gpu_name: str | None = None,
    requests_per_day: float | None = None,
    dataset_tokens: int | None = None,
    epochs: float = 1,
    gpus: dict[str, dict] | None = None,
    cached_share: float = DEFAULT_CACHED_SHARE,
    utilisation: float = 0.6,
    kwh_price: float = 0.0,
    efficiency: float = 0.6,
    mfu: float = 0.35,
) -> dict:
    """Everything the CLI prints and the page shows, as JSON-ready values and Msg sentences (`verdict`, notes, option changes)."""
    gpus = gpus or gpu_catalog()
    if gpu_name and gpu_name not in gpus:
        raise UserError(Msg("Unknown GPU '{gpu}': choose one of {choices}.", gpu=gpu_name, choices=", ".join(gpus)))
    if not 0 <= cached_share <= 1:
        raise UserError(Msg("The cached share of a prompt is between 0 and 1."))
    est = estimate(arch, workload)
    out = {
        "model": arch.name,
        "mode": workload.mode,
        "dtype": workload.dtype,
        "grad_checkpointing": workload.grad_checkpointing,
        "params_b": round(est.params["total"] / 1e9, 3),
        "peak_gib": round(est.peak_gib, 2),
        "peak_phase": est.phase,
        "breakdown_gib": {k: round(v / GiB, 3) for k, v in est.breakdown.items()},
        "one_gpu_needs_gib": round(est.gpu_need_gib(1), 2),
        "assumptions": {
            "cuda_context_gib": CUDA_CONTEXT_GIB,
            "fragmentation": FRAGMENTATION,
            "tp_buffer_gib": TP_BUFFER_GIB,
            "cached_share": cached_share,
            "utilisation": utilisation,
            "efficiency": efficiency,
        },
        "fits": {name: gpus_needed(est, spec) for name, spec in gpus.items()},
        "hosted_class": size_class(est.params["total"] / 1e9)["name"],
        "hosted": [],
        "options": [],
        "break_even_requests_per_day": None,
        "max_concurrent_sequences": None,
        "vllm_args": [],
    }
    gpu_name = gpu_name or cheapest_fit(est, gpus) or next(iter(gpus))
    gpu = gpus[gpu_name]
    tp = gpus_needed(est, gpu)
    out["gpu"] = {
        "name": gpu_name,
        **gpu,
        "gpus_needed": tp,
        "needs_server": bool(tp and needs_server(gpu, tp)),
        "notes": housing_notes(gpu_name, gpu, tp or 1),
    }
    cost_options = {"utilisation": utilisation, "kwh_price": kwh_price, "efficiency": efficiency}
    if not tp or needs_server(gpu, tp):
        out["options"] = options(arch, workload, gpu_name, gpus, requests_per_day=requests_per_day, **cost_options)
    if not tp:
        out["verdict"] = _not_fit_verdict(arch, gpu_name, gpu, tp, out["options"])
        return out
    if workload.mode == "inference":
        _serve(out, est, gpu, tp, requests_per_day, cached_share, cost_options)
        out["verdict"] = _serving_verdict(out, arch, workload, requests_per_day)
    else:
        if dataset_tokens:
            out["cost"] = {
                k: round(v, 3) if isinstance(v, float) else v
                for k, v in finetune_cost(est, gpu, tp, dataset_tokens=dataset_tokens, epochs=epochs, mfu=mfu).items()
            }
        out["verdict"] = _training_verdict(out, arch, workload)
    if needs_server(gpu, tp):
        out["verdict"] += _not_fit_verdict(arch, gpu_name, gpu, tp, out["options"])
    return out


def _serve(out: dict, est: Estimate, gpu: dict, tp: int, requests_per_day: float | None, cached_share: float, cost_options: dict) -> None:
    """Speed, the vLLM plan, the hosted offers and the monthly cost of serving on tp GPUs, into out."""
    speed = roofline(est, gpu, tp, cost_options["efficiency"])
    out["speed"] = {k: round(v, 3) for k, v in speed.__dict__.items()}
    serving = vllm_plan(est, gpu, tp)
    out["max_concurrent_sequences"] = serving.max_concurrent_sequences
    out["vllm_args"] = serving.args
    out["serving"] = {
        "tensor_parallel_size": tp,
        "max_model_len": serving.max_model_len,
        "kv_cache_gib_per_gpu": serving.kv_cache_gib_per_gpu,
        "notes": serving.notes,
    }
    volume = requests_per_day or 0
    priced: list[tuple[Offer, object]] = [
        (offer, monthly_cost(est, gpu, tp, requests_per_day=volume, offer=offer, **cost_options)) for offer in offers(est, cached_share=cached_share)
    ]
    out["hosted"] = [
        {
            "label": offer.label,
            "provider": offer.provider,
            "model": offer.model,
            "open": offer.open,
            "usd_per_request": offer.usd_per_request,
            "usd_per_1000_requests": round(offer.usd_per_request * 1000, 4),
            "monthly_usd": round(cost.api_usd, 2) if requests_per_day else None,
            "break_even_requests_per_day": None if cost.break_even_requests_per_day is None else round(cost.break_even_requests_per_day),
        }
        for offer, cost in priced
    ]
    if out["hosted"]:
        out["break_even_requests_per_day"] = out["hosted"][0]["break_even_requests_per_day"]
    if requests_per_day:
        self_hosted = monthly_cost(est, gpu, tp, requests_per_day=requests_per_day, **cost_options)
        out["cost"] = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in self_hosted.__dict__.items() if not k.startswith(("api_", "break_even"))}
