import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.capacity.advice import DEFAULT_CACHED_SHARE, default_checkpointing, plan, verdict_text
from core.capacity.hosted import Offer
from core.capacity.memory import KV_BYTES, WEIGHT_FORMATS, GiB, Workload, architecture_from_pretrained, catalog, estimate, gpu_catalog, load_architecture
from core.capacity.planner import breakeven_table, cuda_available, measure_generation
from core.errors import MercuryError
from core.i18n import N_, Capital
from core.ingest import loads_json
from ui.backend import current_spec
from ui.i18n import current_language, labels, num, say, t

KEY = "capacity_"
AUTO = "auto"
st.title(t("Capacity planner"))
st.caption(
    t(
        "How much GPU memory a model needs to serve or fine-tune, how many GPUs, how fast, and what a month costs "
        "self-hosted against a hosted API. Memory follows which tensors are alive at the peak in plain transformers code."
    )
)
verdict_box = st.container()  # the verdict comes first, once the choices below are read
TERMS = {
    "kv_cache": t("KV cache: what the model keeps of every token it has read, so it does not read them again; it grows with users and context."),
    "tensor_parallel": t("Tensor parallelism: every layer split across GPUs that exchange results at each layer; fast over NVLink, slower over PCIe."),
    "prefill": t("Prefill: reading the prompt, all tokens at once; bound by the GPU's compute."),
    "decode": t("Decode: writing the answer, one token per step; bound by how fast the GPU reads its memory."),
    "roofline": t("Roofline: the speed the GPU's memory bandwidth and compute allow, times the engine efficiency below."),
    "checkpointing": t(
        "Gradient checkpointing: keeps each layer's input and recomputes the rest in the backward pass: less memory, about a third more compute."
    ),
}
SOURCES = {"catalog": t("Catalog"), "config": "config.json", "local": t("Local backend's model")}

# --- model -------------------------------------------------------------------------------------
source = st.radio(t("Model"), list(SOURCES), format_func=SOURCES.get, horizontal=True, key=KEY + "source")
try:
    if source == "catalog":
        arch = load_architecture(model=st.selectbox(t("Open model"), list(catalog()), index=2, key=KEY + "model"))
    elif source == "config":
        upload = st.file_uploader(t("A transformers config.json"), type=["json"], key=KEY + "config_file")
        pasted = st.text_area(t("...or paste it"), key=KEY + "config_text", height=120)
        raw = upload.getvalue().decode("utf-8", errors="replace") if upload else pasted
        if not raw.strip():
            st.info(t("Upload or paste the config.json of any causal language model."))
            st.stop()
        arch = load_architecture(config=loads_json(raw, "That"), model="pasted config")
    else:
        spec = current_spec()
        if not spec or spec.kind != "local":
            st.info(t("Choose *Local model* in the sidebar first; its model's config is read from your local files."))
            st.stop()
        arch = architecture_from_pretrained(spec.model)
except MercuryError as error:
    st.error(say(error))
    st.stop()

params = arch.params()
st.caption(
    t("**{name}**: {billions} B parameters", name=arch.name, billions=round(params["total"] / 1e9, 2))
    + (
        " ("
        + t(
            "{billions} B active per token, {experts} experts, top {top}",
            billions=round(params["active"] / 1e9, 1),
            experts=arch.experts,
            top=arch.experts_per_token,
        )
        + ")"
        if arch.experts > 1
        else ""
    )
    + "; "
    + t(
        "{layers} layers, hidden {hidden}, {heads} heads, {kv_heads} KV heads of {head_dim}",
        layers=arch.layers,
        hidden=arch.hidden,
        heads=arch.heads,
        kv_heads=arch.kv_heads,
        head_dim=arch.head_dim,
    )
    + ("; " + t("{layers} sliding-window layers of {window} tokens", layers=arch.sliding_layers, window=arch.sliding_window) if arch.sliding_window else "")
    + ("; " + t("reads up to {tokens} tokens", tokens=arch.max_context) if arch.max_context else "")
)

# --- GPUs (editable) and the one to plan on ------------------------------------------------------
with st.expander(t("GPU catalog (edit prices for your quote)")):
    table = pd.DataFrame.from_dict(gpu_catalog(), orient="index").rename_axis("gpu").reset_index()
    edited = st.data_editor(table, hide_index=True, width="stretch", key=KEY + "gpus", disabled=["gpu", "kind", "link"])
gpus = {row["gpu"]: {k: row[k] for k in table.columns if k != "gpu"} for row in edited.to_dict("records")}
choice = st.selectbox(
    t("GPU"),
    [AUTO, *gpus],
    format_func=labels({AUTO: N_("The one that does the work for the least money"), **{name: name for name in gpus}}),
    key=KEY + "gpu",
    help=TERMS["tensor_parallel"],
)
chosen_gpu = None if choice == AUTO else choice

# --- workload ----------------------------------------------------------------------------------
MODES = {"inference": t("Serve (inference)"), "full": t("Full fine-tune"), "lora": "LoRA", "qlora": "QLoRA"}
mode = st.segmented_control(t("Workload"), list(MODES), default="inference", key=KEY + "mode", format_func=MODES.get) or "inference"
cols = st.columns(4)
requests = None
if mode == "inference":
    dtype = cols[0].selectbox(t("Weights"), list(WEIGHT_FORMATS), index=1, key=KEY + "dtype")
    kv_dtype = cols[1].selectbox(t("KV cache"), list(KV_BYTES), index=1, key=KEY + "kv_dtype", help=TERMS["kv_cache"])
    batch = cols[2].number_input(t("Concurrent users (batch)"), 1, 1024, 8, key=KEY + "batch")
    prompt = cols[3].number_input(t("Prompt tokens"), 1, 1_000_000, 1024, key=KEY + "prompt", help=TERMS["prefill"])
    new = cols[0].number_input(t("Output tokens"), 0, 100_000, 256, key=KEY + "new", help=TERMS["decode"])
    requests = cols[1].number_input(t("Requests per day"), 1, 100_000_000, 5000, key=KEY + "requests")
    cached = cols[2].slider(
        t("Share of each prompt the API bills as cached"),
        0.0,
        1.0,
        DEFAULT_CACHED_SHARE,
        0.05,
        key=KEY + "cached",
        help=t("The instructions and brand profile every request repeats; providers that cache input bill it at a discount."),
    )
    utilisation = cols[3].slider(t("Utilisation"), 0.05, 1.0, 0.6, key=KEY + "utilisation", help=t("The share of the month the GPUs are busy."))
    kwh = cols[0].number_input(t("Energy price ($/kWh, 0 when rented)"), 0.0, 5.0, 0.0, 0.01, key=KEY + "kwh")
    workload = Workload(mode="inference", dtype=dtype, kv_dtype=kv_dtype, batch=int(batch), prompt=int(prompt), new=int(new))
else:
    dtype = "bf16" if mode == "qlora" else cols[0].selectbox(t("Precision"), ["bf16", "fp16", "fp32"], key=KEY + "train_dtype")
    batch = cols[1].number_input(t("Batch"), 1, 1024, 4, key=KEY + "train_batch")
    seq = cols[2].number_input(t("Sequence length"), 16, 1_000_000, 1024, key=KEY + "seq")
    # One toggle per mode and card, so its default (on for QLoRA, and for LoRA on 24 GB cards) follows them.
    default_ckpt = default_checkpointing(mode, gpus.get(chosen_gpu or ""))
    checkpointing = cols[3].toggle(t("Gradient checkpointing"), value=default_ckpt, key=f"{KEY}ckpt_{mode}_{default_ckpt}", help=TERMS["checkpointing"])
    mixed = mode == "full" and cols[0].toggle(t("fp32 master weights (mixed precision)"), key=KEY + "mixed")
    r, targets = 16, ("q", "k", "v", "o")
    if mode in ("lora", "qlora"):
        r = cols[1].number_input(t("LoRA rank"), 1, 1024, 16, key=KEY + "rank")
        targets = tuple(
            cols[2].multiselect(
                t("Target modules"),
                ["q", "k", "v", "o", "gate", "up", "down"],
                default=["q", "k", "v", "o"],
                placeholder=t("Choose options"),
                key=KEY + "targets",
            )
        ) or ("q",)
    tokens = cols[0].number_input(t("Training tokens per epoch"), 1_000, 10**12, 5_000_000, key=KEY + "tokens")
    epochs = cols[1].number_input(t("Epochs"), 0.1, 100.0, 2.0, key=KEY + "epochs")
    mfu = cols[2].slider(t("Model FLOPs utilisation"), 0.1, 0.7, 0.35, key=KEY + "mfu")
    workload = Workload(
        mode=mode,
        dtype=dtype,
        batch=int(batch),
        seq=int(seq),
        lora_r=int(r),
        lora_targets=targets,
        grad_checkpointing=checkpointing,
        mixed_precision=bool(mixed),
    )
efficiency = st.slider(
    t("Serving engine efficiency (share of peak bandwidth and FLOPs achieved)"),
    0.1,
    1.0,
    0.6,
    0.05,
    key=KEY + "efficiency",
    help=t("An assumption, stated: vLLM-class engines reach 0.5 to 0.8 of the roofline; plain generate less."),
)

try:
    est = estimate(arch, workload)
    if mode == "inference":
        result = plan(
            arch,
            workload,
            gpu_name=chosen_gpu,
            requests_per_day=requests,
            gpus=gpus,
            cached_share=cached,
            utilisation=utilisation,
            kwh_price=kwh,
            efficiency=efficiency,
        )
    else:
        result = plan(arch, workload, gpu_name=chosen_gpu, gpus=gpus, dataset_tokens=int(tokens), epochs=float(epochs), efficiency=efficiency, mfu=mfu)
except MercuryError as error:
    verdict_box.error(say(error))
    st.stop()

gpu_name, tp = result["gpu"]["name"], result["gpu"]["gpus_needed"]
gpu = gpus[gpu_name]
with verdict_box:
    (st.success if tp and not result["gpu"]["needs_server"] else st.warning)(verdict_text(result["verdict"], current_language()))
    if result["options"]:
        st.markdown("**" + t("What to change") + "**")
        rows = [
            {
                t("Change"): say(Capital(option["change"])),
                t("GPUs"): f"{option['gpus_needed']} x {option['gpu']}",
                t("Peak memory (GiB)"): option["peak_gib"],
                t("Tokens a second per user"): option.get("decode_tokens_per_s"),
                t("$ per month"): option.get("monthly_usd"),
            }
            for option in result["options"]
        ]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")

# --- memory ------------------------------------------------------------------------------------
st.subheader(t("Memory"))
left, right = st.columns([1, 2])
left.metric(
    t("Peak GPU memory (tensors)"), f"{num(est.peak_gib, 2)} GiB", help=t("at the {phase}; comparable with torch.cuda.max_memory_allocated", phase=t(est.phase))
)
left.metric(t("One GPU needs"), f"{num(est.gpu_need_gib(1), 2)} GiB", help=t("plus CUDA context (0.6 GiB) and 5% allocator fragmentation"))
left.dataframe(pd.Series({t(k).replace("_", " "): v / GiB for k, v in est.breakdown.items() if v}, name="GiB").round(3), width="stretch")
figure = go.Figure()
for kind, value in est.breakdown.items():
    if value:
        figure.add_bar(name=t(kind).replace("_", " "), x=[t("this workload")], y=[value / GiB])  # "kv_cache" is its own msgid
by_memory: dict[float, list[str]] = {}
for name, spec in gpus.items():  # one line per memory size, so cards of the same size do not print over each other
    by_memory.setdefault(float(spec["memory_gib"]), []).append(name.rsplit(" ", 1)[0])
for memory, names in by_memory.items():
    figure.add_hline(y=memory, line_dash="dot", line_color="#888", annotation_text=", ".join(names), annotation_position="right")
figure.update_layout(
    barmode="stack",
    yaxis_title="GiB",
    height=520,
    margin=dict(t=40, r=260),
    title=t("Memory at the peak against each GPU"),
    legend=dict(orientation="h", yanchor="top", y=-0.08),  # below the plot, clear of the GPU labels on the right
)
right.plotly_chart(figure, width="stretch", key=KEY + "memory_chart")
fits = pd.DataFrame([{"gpu": name, "memory_gib": gpus[name]["memory_gib"], "gpus_needed": n} for name, n in result["fits"].items()])
fits["gpus_needed"] = fits["gpus_needed"].map(lambda n: t("does not fit on 8") if pd.isna(n) else int(n))
st.dataframe(fits, hide_index=True, width="stretch", column_config={"gpus_needed": t("GPUs needed (tensor parallel)")})
if not tp:
    st.stop()

# --- speed, cost and the serving plan ------------------------------------------------------------
st.subheader(t("Speed and cost on {count} x {gpu}", count=tp, gpu=gpu_name))
if mode == "inference":
    speed = result["speed"]
    cols = st.columns(4)
    cols[0].metric(t("Decode, per user"), f"{num(speed['decode_tokens_per_s'], 1)} tok/s", help=TERMS["decode"] + " " + TERMS["roofline"])
    cols[1].metric(t("Throughput"), f"{num(speed['throughput_tokens_per_s'], 0)} tok/s")
    cols[2].metric(t("Latency per request"), f"{num(speed['request_latency_s'], 1)} s", help=t("prefill {seconds} s", seconds=round(speed["prefill_s"], 2)))
    cols[3].metric(t("Requests per day on {count} x {gpu}", count=tp, gpu=gpu_name), num(speed["requests_per_day"], 0))
    cost = result["cost"]
    cols = st.columns(3)
    cols[0].metric(
        t("Self-hosted per month"),
        f"${num(cost['self_hosted_usd'], 0)}",
        help=t("{count} GPUs x 730 h; {kwh} kWh", count=cost["gpus"], kwh=round(cost["energy_kwh"])),
    )
    break_even = result["break_even_requests_per_day"]
    cols[1].metric(
        t("Self-hosting pays above"),
        t("never") if break_even is None else t("{count} requests a day", count=break_even),
        help=t("against the cheapest hosted offer of the same class"),
    )
    cols[2].metric(
        t("Most requests at once"),
        num(result["max_concurrent_sequences"], 0),
        help=TERMS["kv_cache"] + " " + t("What vLLM's KV cache holds with the command below."),
    )
    st.markdown("**" + t("Hosted models of the same class ({size})", size=result["hosted_class"]) + "**")
    hosted = pd.DataFrame(result["hosted"])
    if not hosted.empty:
        hosted["open"] = hosted["open"].map({True: t("open model"), False: t("closed model")})
        hosted["break_even_requests_per_day"] = hosted["break_even_requests_per_day"].map(lambda n: t("never") if pd.isna(n) else num(int(n), 0))
        st.dataframe(
            hosted[["label", "open", "usd_per_1000_requests", "monthly_usd", "break_even_requests_per_day"]],
            hide_index=True,
            width="stretch",
            column_config={
                "label": t("Hosted model"),
                "open": t("Kind"),
                "usd_per_1000_requests": t("$ per 1,000 requests"),
                "monthly_usd": t("$ per month"),
                "break_even_requests_per_day": t("Self-hosting pays above (requests a day)"),
            },
        )
        best = result["hosted"][0]
        offer = Offer(best["provider"], best["model"], best["label"], best["open"], best["usd_per_request"])
        top = max(requests * 2, (break_even or 0) * 2, speed["requests_per_day"] * utilisation * 3)
        rows = pd.DataFrame(breakeven_table(est, gpu, tp, offer=offer, max_requests_per_day=top, utilisation=utilisation, kwh_price=kwh, efficiency=efficiency))
        chart = go.Figure()
        chart.add_scatter(x=rows["requests_per_day"], y=rows["self_hosted_usd"], name=t("self-hosted ({gpu})", gpu=gpu_name), line_shape="hv")
        chart.add_scatter(x=rows["requests_per_day"], y=rows["api_usd"], name=best["label"])
        if break_even is not None:
            chart.add_vline(x=break_even, line_dash="dot", line_color="#888")
        chart.update_layout(
            title=t("Self-hosting pays above {count} requests a day", count=break_even)
            if break_even is not None
            else t("Self-hosting never costs less than {hosted} at these volumes", hosted=best["label"]),
            xaxis_title=t("requests per day"),
            yaxis_title=t("$ per month"),
            height=380,
        )
        st.plotly_chart(chart, width="stretch", key=KEY + "breakeven")
    if result["vllm_args"]:
        st.markdown("**" + t("Start it with vLLM") + "**")
        st.code(" ".join(f"'{arg}'" if " " in arg else arg for arg in result["vllm_args"]), language="bash")
    for note in result["serving"]["notes"]:
        st.caption(say(note))
else:
    run = result["cost"]
    cols = st.columns(2)
    cols[0].metric(t("Training time"), t("{hours} h on {count} x {gpu}", hours=round(run["hours"], 1), count=tp, gpu=gpu_name))
    cols[1].metric(t("Cost of the run"), f"${num(run['cost_usd'], 2)}")

# --- measure this machine ----------------------------------------------------------------------
st.subheader(t("Measure this machine"))
if not cuda_available():
    st.caption(t("No NVIDIA GPU here, so there is nothing to measure; the estimates above need none."))
else:
    spec = current_spec()
    if not spec or spec.kind != "local":
        st.caption(t("Choose *Local model* in the sidebar to measure its memory and speed on this GPU."))
    elif st.button(t("Measure the local model"), key=KEY + "measure"):
        with st.spinner(t("Generating on the GPU...")):
            measured = measure_generation(spec.model, batch=workload.batch, prompt=workload.prompt, new=workload.new)
        st.dataframe(pd.DataFrame([measured]), hide_index=True)
