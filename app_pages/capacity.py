import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.capacity.memory import KV_BYTES, WEIGHT_FORMATS, GiB, Workload, architecture_from_pretrained, catalog, estimate, gpu_catalog, load_architecture
from core.capacity.planner import breakeven_table, cheapest_fit, cuda_available, finetune_cost, fit_table, gpus_needed, measure_generation, monthly_cost, roofline
from core.errors import MercuryError
from core.ingest import loads_json
from ui.backend import current_spec

KEY = "capacity_"
st.title("Capacity planner")
st.caption(
    "How much GPU memory a model needs to serve or fine-tune, how many GPUs, how fast, and what a month costs "
    "self-hosted against a hosted API. Memory follows which tensors are alive at the peak in plain transformers code."
)

# --- model -------------------------------------------------------------------------------------
source = st.radio("Model", ["Catalog", "config.json", "Local backend's model"], horizontal=True, key=KEY + "source")
try:
    if source == "Catalog":
        arch = load_architecture(model=st.selectbox("Open model", list(catalog()), index=2, key=KEY + "model"))
    elif source == "config.json":
        upload = st.file_uploader("A transformers config.json", type=["json"], key=KEY + "config_file")
        pasted = st.text_area("...or paste it", key=KEY + "config_text", height=120)
        raw = upload.getvalue().decode("utf-8", errors="replace") if upload else pasted
        if not raw.strip():
            st.info("Upload or paste the config.json of any causal language model.")
            st.stop()
        arch = load_architecture(config=loads_json(raw, "That"), model="pasted config")
    else:
        spec = current_spec()
        if not spec or spec.kind != "local":
            st.info("Choose *Local model* in the sidebar first; its model's config is read from your local files.")
            st.stop()
        arch = architecture_from_pretrained(spec.model)
except MercuryError as error:
    st.error(str(error))
    st.stop()

params = arch.params()
st.caption(
    f"**{arch.name}**: {params['total'] / 1e9:.2f} B parameters"
    + (f" ({params['active'] / 1e9:.1f} B active per token, {arch.experts} experts, top {arch.experts_per_token})" if arch.experts > 1 else "")
    + f"; {arch.layers} layers, hidden {arch.hidden}, {arch.heads} heads, {arch.kv_heads} KV heads of {arch.head_dim}"
    + (f"; {arch.sliding_layers} sliding-window layers of {arch.sliding_window} tokens" if arch.sliding_window else "")
)

# --- workload ----------------------------------------------------------------------------------
mode = st.segmented_control("Workload", ["inference", "full", "lora", "qlora"], default="inference", key=KEY + "mode",
                            format_func={"inference": "Serve (inference)", "full": "Full fine-tune", "lora": "LoRA", "qlora": "QLoRA"}.get) or "inference"
cols = st.columns(4)
if mode == "inference":
    dtype = cols[0].selectbox("Weights", list(WEIGHT_FORMATS), index=1, key=KEY + "dtype")
    kv_dtype = cols[1].selectbox("KV cache", list(KV_BYTES), index=1, key=KEY + "kv_dtype")
    batch = cols[2].number_input("Concurrent users (batch)", 1, 1024, 8, key=KEY + "batch")
    prompt = cols[3].number_input("Prompt tokens", 1, 1_000_000, 1024, key=KEY + "prompt")
    new = cols[0].number_input("Output tokens", 0, 100_000, 256, key=KEY + "new")
    workload = Workload(mode="inference", dtype=dtype, kv_dtype=kv_dtype, batch=int(batch), prompt=int(prompt), new=int(new))
else:
    dtype = "bf16" if mode == "qlora" else cols[0].selectbox("Precision", ["bf16", "fp16", "fp32"], key=KEY + "train_dtype")
    batch = cols[1].number_input("Batch", 1, 1024, 4, key=KEY + "train_batch")
    seq = cols[2].number_input("Sequence length", 16, 1_000_000, 1024, key=KEY + "seq")
    checkpointing = cols[3].toggle("Gradient checkpointing", key=KEY + "ckpt")
    mixed = mode == "full" and cols[0].toggle("fp32 master weights (mixed precision)", key=KEY + "mixed")
    r, targets = 16, ("q", "k", "v", "o")
    if mode in ("lora", "qlora"):
        r = cols[1].number_input("LoRA rank", 1, 1024, 16, key=KEY + "rank")
        targets = tuple(cols[2].multiselect("Target modules", ["q", "k", "v", "o", "gate", "up", "down"], default=["q", "k", "v", "o"], key=KEY + "targets")) or ("q",)
    workload = Workload(mode=mode, dtype=dtype, batch=int(batch), seq=int(seq), lora_r=int(r), lora_targets=targets, grad_checkpointing=checkpointing, mixed_precision=bool(mixed))

try:
    est = estimate(arch, workload)
except MercuryError as error:
    st.error(str(error))
    st.stop()

# --- GPUs (editable) ---------------------------------------------------------------------------
with st.expander("GPU catalog (edit prices for your quote)"):
    table = pd.DataFrame.from_dict(gpu_catalog(), orient="index").rename_axis("gpu").reset_index()
    edited = st.data_editor(table, hide_index=True, width="stretch", key=KEY + "gpus", disabled=["gpu"])
gpus = {row["gpu"]: {k: row[k] for k in table.columns if k != "gpu"} for row in edited.to_dict("records")}

# --- memory ------------------------------------------------------------------------------------
left, right = st.columns([1, 2])
left.metric("Peak GPU memory (tensors)", f"{est.peak_gib:,.2f} GiB", help=f"at the {est.phase}; comparable with torch.cuda.max_memory_allocated")
left.metric("One GPU needs", f"{est.gpu_need_gib(1):,.2f} GiB", help="plus CUDA context (0.6 GiB) and 5% allocator fragmentation")
left.dataframe(pd.Series({k: v / GiB for k, v in est.breakdown.items() if v}, name="GiB").round(3), width="stretch")
figure = go.Figure()
for kind, value in est.breakdown.items():
    if value:
        figure.add_bar(name=kind, x=["this workload"], y=[value / GiB])
for name, spec in gpus.items():
    figure.add_hline(y=spec["memory_gib"], line_dash="dot", line_color="#888", annotation_text=name, annotation_position="right")
figure.update_layout(barmode="stack", yaxis_title="GiB", height=520, margin=dict(t=20, r=140), title="Memory at the peak against each GPU")
right.plotly_chart(figure, width="stretch", key=KEY + "memory_chart")

fit_rows = fit_table(est, gpus)
fits = pd.DataFrame(fit_rows)
fits["gpus_needed"] = fits["gpus_needed"].map(lambda n: "does not fit on 8" if pd.isna(n) else int(n))
st.dataframe(fits.rename(columns={"gpus_needed": "gpus_needed (tensor parallel)"}), hide_index=True, width="stretch")

# --- speed and cost ----------------------------------------------------------------------------
cheapest = cheapest_fit(est, gpus)
if cheapest is None:
    st.warning("No GPU in the catalog holds this workload, even eight of them: try a smaller precision or batch.")
    st.stop()
usable = [row["gpu"] for row in fit_rows if row["gpus_needed"]]
gpu_name = st.selectbox("GPU for speed and cost (the cheapest fit first)", usable, index=usable.index(cheapest), key=KEY + "gpu")
gpu, tp = gpus[gpu_name], gpus_needed(est, gpus[gpu_name])
efficiency = st.slider("Serving engine efficiency (share of peak bandwidth and FLOPs achieved)", 0.1, 1.0, 0.6, 0.05, key=KEY + "efficiency",
                       help="An assumption, stated: vLLM-class engines reach 0.5 to 0.8 of the roofline; plain generate less.")
if mode == "inference":
    speed = roofline(est, gpu, tp, efficiency)
    cols = st.columns(4)
    cols[0].metric("Decode, per user", f"{speed.decode_tokens_per_s:,.1f} tok/s")
    cols[1].metric("Throughput", f"{speed.throughput_tokens_per_s:,.0f} tok/s")
    cols[2].metric("Latency per request", f"{speed.request_latency_s:,.1f} s", help=f"prefill {speed.prefill_s:.2f} s")
    cols[3].metric(f"Requests per day on {tp} x {gpu_name}", f"{speed.requests_per_day:,.0f}")
    cols = st.columns(4)
    requests = cols[0].number_input("Requests per day", 1, 100_000_000, 5000, key=KEY + "requests")
    utilisation = cols[1].slider("Utilisation", 0.05, 1.0, 0.6, key=KEY + "utilisation")
    kwh = cols[2].number_input("Energy price ($/kWh, 0 when rented)", 0.0, 5.0, 0.0, 0.01, key=KEY + "kwh")
    api_model = cols[3].text_input("Hosted model to compare", "gpt-4o-mini", key=KEY + "api_model")
    cost = monthly_cost(est, gpu, tp, requests_per_day=requests, utilisation=utilisation, kwh_price=kwh, api_model=api_model, efficiency=efficiency)
    cols = st.columns(3)
    cols[0].metric("Self-hosted per month", f"${cost.self_hosted_usd:,.0f}", help=f"{cost.gpus} GPUs x 730 h; {cost.energy_kwh:,.0f} kWh")
    cols[1].metric(f"{api_model} per month", "unknown price" if cost.api_usd is None else f"${cost.api_usd:,.0f}", help="prices from genai-prices")
    cols[2].metric("Capacity per month", f"{cost.capacity_requests_per_month:,.0f} requests")
    if cost.api_usd is not None:
        rows = pd.DataFrame(breakeven_table(est, gpu, tp, api_model=api_model, max_requests_per_day=max(requests * 2, speed.requests_per_day * utilisation * 3), utilisation=utilisation, kwh_price=kwh, efficiency=efficiency))
        chart = go.Figure()
        chart.add_scatter(x=rows["requests_per_day"], y=rows["self_hosted_usd"], name=f"self-hosted ({gpu_name})", line_shape="hv")
        chart.add_scatter(x=rows["requests_per_day"], y=rows["api_usd"], name=api_model)
        chart.update_layout(title="Monthly cost by daily requests: the break-even is where the lines cross", xaxis_title="requests per day", yaxis_title="$ per month", height=380)
        st.plotly_chart(chart, width="stretch", key=KEY + "breakeven")
else:
    cols = st.columns(3)
    tokens = cols[0].number_input("Training tokens per epoch", 1_000, 10**12, 5_000_000, key=KEY + "tokens")
    epochs = cols[1].number_input("Epochs", 0.1, 100.0, 2.0, key=KEY + "epochs")
    mfu = cols[2].slider("Model FLOPs utilisation", 0.1, 0.7, 0.35, key=KEY + "mfu")
    run = finetune_cost(est, gpu, tp, dataset_tokens=int(tokens), epochs=float(epochs), mfu=mfu)
    cols = st.columns(2)
    cols[0].metric("Training time", f"{run['hours']:,.1f} h on {tp} x {gpu_name}")
    cols[1].metric("Cost of the run", f"${run['cost_usd']:,.2f}")

# --- measure this machine ----------------------------------------------------------------------
st.subheader("Measure this machine")
if not cuda_available():
    st.caption("No NVIDIA GPU here, so there is nothing to measure; the estimates above need none.")
else:
    spec = current_spec()
    if not spec or spec.kind != "local":
        st.caption("Choose *Local model* in the sidebar to measure its memory and speed on this GPU.")
    elif st.button("Measure the local model", key=KEY + "measure"):
        with st.spinner("Generating on the GPU..."):
            measured = measure_generation(spec.model, batch=workload.batch, prompt=workload.prompt, new=workload.new)
        st.dataframe(pd.DataFrame([measured]), hide_index=True)
