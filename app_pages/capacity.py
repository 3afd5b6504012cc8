import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.capacity.memory import KV_BYTES, WEIGHT_FORMATS, GiB, Workload, architecture_from_pretrained, catalog, estimate, gpu_catalog, load_architecture
from core.capacity.planner import (
    breakeven_table,
    cheapest_fit,
    cuda_available,
    finetune_cost,
    fit_table,
    gpus_needed,
    measure_generation,
    monthly_cost,
    roofline,
)
from core.errors import MercuryError
from core.ingest import loads_json
from ui.backend import current_spec
from ui.i18n import num, say, t

KEY = "capacity_"
st.title(t("Capacity planner"))
st.caption(
    t(
        "How much GPU memory a model needs to serve or fine-tune, how many GPUs, how fast, and what a month costs "
        "self-hosted against a hosted API. Memory follows which tensors are alive at the peak in plain transformers code."
    )
)
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
)

# --- workload ----------------------------------------------------------------------------------
MODES = {"inference": t("Serve (inference)"), "full": t("Full fine-tune"), "lora": "LoRA", "qlora": "QLoRA"}
mode = st.segmented_control(t("Workload"), list(MODES), default="inference", key=KEY + "mode", format_func=MODES.get) or "inference"
cols = st.columns(4)
if mode == "inference":
    dtype = cols[0].selectbox(t("Weights"), list(WEIGHT_FORMATS), index=1, key=KEY + "dtype")
    kv_dtype = cols[1].selectbox(t("KV cache"), list(KV_BYTES), index=1, key=KEY + "kv_dtype")
    batch = cols[2].number_input(t("Concurrent users (batch)"), 1, 1024, 8, key=KEY + "batch")
    prompt = cols[3].number_input(t("Prompt tokens"), 1, 1_000_000, 1024, key=KEY + "prompt")
    new = cols[0].number_input(t("Output tokens"), 0, 100_000, 256, key=KEY + "new")
    workload = Workload(mode="inference", dtype=dtype, kv_dtype=kv_dtype, batch=int(batch), prompt=int(prompt), new=int(new))
else:
    dtype = "bf16" if mode == "qlora" else cols[0].selectbox(t("Precision"), ["bf16", "fp16", "fp32"], key=KEY + "train_dtype")
    batch = cols[1].number_input(t("Batch"), 1, 1024, 4, key=KEY + "train_batch")
    seq = cols[2].number_input(t("Sequence length"), 16, 1_000_000, 1024, key=KEY + "seq")
    checkpointing = cols[3].toggle(t("Gradient checkpointing"), key=KEY + "ckpt")
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

try:
    est = estimate(arch, workload)
except MercuryError as error:
    st.error(say(error))
    st.stop()

# --- GPUs (editable) ---------------------------------------------------------------------------
with st.expander(t("GPU catalog (edit prices for your quote)")):
    table = pd.DataFrame.from_dict(gpu_catalog(), orient="index").rename_axis("gpu").reset_index()
    edited = st.data_editor(table, hide_index=True, width="stretch", key=KEY + "gpus", disabled=["gpu"])
gpus = {row["gpu"]: {k: row[k] for k in table.columns if k != "gpu"} for row in edited.to_dict("records")}

# --- memory ------------------------------------------------------------------------------------
left, right = st.columns([1, 2])
left.metric(
    t("Peak GPU memory (tensors)"), f"{num(est.peak_gib, 2)} GiB", help=t("at the {phase}; comparable with torch.cuda.max_memory_allocated", phase=t(est.phase))
)
left.metric(t("One GPU needs"), f"{num(est.gpu_need_gib(1), 2)} GiB", help=t("plus CUDA context (0.6 GiB) and 5% allocator fragmentation"))
left.dataframe(pd.Series({k: v / GiB for k, v in est.breakdown.items() if v}, name="GiB").round(3), width="stretch")
figure = go.Figure()
for kind, value in est.breakdown.items():
    if value:
        figure.add_bar(name=t(kind), x=[t("this workload")], y=[value / GiB])
for name, spec in gpus.items():
    figure.add_hline(y=spec["memory_gib"], line_dash="dot", line_color="#888", annotation_text=name, annotation_position="right")
figure.update_layout(barmode="stack", yaxis_title="GiB", height=520, margin=dict(t=20, r=140), title=t("Memory at the peak against each GPU"))
right.plotly_chart(figure, width="stretch", key=KEY + "memory_chart")

fit_rows = fit_table(est, gpus)
fits = pd.DataFrame(fit_rows)
fits["gpus_needed"] = fits["gpus_needed"].map(lambda n: t("does not fit on 8") if pd.isna(n) else int(n))
st.dataframe(fits, hide_index=True, width="stretch", column_config={"gpus_needed": t("GPUs needed (tensor parallel)")})

# --- speed and cost ----------------------------------------------------------------------------
cheapest = cheapest_fit(est, gpus)
if cheapest is None:
    st.warning(t("No GPU in the catalog holds this workload, even eight of them: try a smaller precision or batch."))
    st.stop()
usable = [row["gpu"] for row in fit_rows if row["gpus_needed"]]
gpu_name = st.selectbox(t("GPU for speed and cost (the cheapest fit first)"), usable, index=usable.index(cheapest), key=KEY + "gpu")
gpu, tp = gpus[gpu_name], gpus_needed(est, gpus[gpu_name])
efficiency = st.slider(
    t("Serving engine efficiency (share of peak bandwidth and FLOPs achieved)"),
    0.1,
    1.0,
    0.6,
    0.05,
    key=KEY + "efficiency",
    help=t("An assumption, stated: vLLM-class engines reach 0.5 to 0.8 of the roofline; plain generate less."),
)
if mode == "inference":
    speed = roofline(est, gpu, tp, efficiency)
    cols = st.columns(4)
    cols[0].metric(t("Decode, per user"), f"{num(speed.decode_tokens_per_s, 1)} tok/s")
    cols[1].metric(t("Throughput"), f"{num(speed.throughput_tokens_per_s, 0)} tok/s")
    cols[2].metric(t("Latency per request"), f"{num(speed.request_latency_s, 1)} s", help=t("prefill {seconds} s", seconds=round(speed.prefill_s, 2)))
    cols[3].metric(t("Requests per day on {count} x {gpu}", count=tp, gpu=gpu_name), num(speed.requests_per_day, 0))
    cols = st.columns(4)
    requests = cols[0].number_input(t("Requests per day"), 1, 100_000_000, 5000, key=KEY + "requests")
    utilisation = cols[1].slider(t("Utilisation"), 0.05, 1.0, 0.6, key=KEY + "utilisation")
    kwh = cols[2].number_input(t("Energy price ($/kWh, 0 when rented)"), 0.0, 5.0, 0.0, 0.01, key=KEY + "kwh")
    api_model = cols[3].text_input(t("Hosted model to compare"), "gpt-4o-mini", key=KEY + "api_model")
    cost = monthly_cost(est, gpu, tp, requests_per_day=requests, utilisation=utilisation, kwh_price=kwh, api_model=api_model, efficiency=efficiency)
    cols = st.columns(3)
    cols[0].metric(
        t("Self-hosted per month"), f"${num(cost.self_hosted_usd, 0)}", help=t("{count} GPUs x 730 h; {kwh} kWh", count=cost.gpus, kwh=round(cost.energy_kwh))
    )
    cols[1].metric(
        t("{model} per month", model=api_model), t("unknown price") if cost.api_usd is None else f"${num(cost.api_usd, 0)}", help=t("prices from genai-prices")
    )
    cols[2].metric(t("Capacity per month"), t("{count} requests", count=round(cost.capacity_requests_per_month)))
    if cost.api_usd is not None:
        rows = pd.DataFrame(
            breakeven_table(
                est,
                gpu,
                tp,
                api_model=api_model,
                max_requests_per_day=max(requests * 2, speed.requests_per_day * utilisation * 3),
                utilisation=utilisation,
                kwh_price=kwh,
                efficiency=efficiency,
            )
        )
        chart = go.Figure()
        chart.add_scatter(x=rows["requests_per_day"], y=rows["self_hosted_usd"], name=t("self-hosted ({gpu})", gpu=gpu_name), line_shape="hv")
        chart.add_scatter(x=rows["requests_per_day"], y=rows["api_usd"], name=api_model)
        chart.update_layout(
            title=t("Monthly cost by daily requests: the break-even is where the lines cross"),
            xaxis_title=t("requests per day"),
            yaxis_title=t("$ per month"),
            height=380,
        )
        st.plotly_chart(chart, width="stretch", key=KEY + "breakeven")
else:
    cols = st.columns(3)
    tokens = cols[0].number_input(t("Training tokens per epoch"), 1_000, 10**12, 5_000_000, key=KEY + "tokens")
    epochs = cols[1].number_input(t("Epochs"), 0.1, 100.0, 2.0, key=KEY + "epochs")
    mfu = cols[2].slider(t("Model FLOPs utilisation"), 0.1, 0.7, 0.35, key=KEY + "mfu")
    run = finetune_cost(est, gpu, tp, dataset_tokens=int(tokens), epochs=float(epochs), mfu=mfu)
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
