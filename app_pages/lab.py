import time

import pandas as pd
import plotly.express as px
import streamlit as st

from core.errors import MercuryError
from core.ingest import read_table
from core.lab.evaluate import evaluate_choice, evaluate_generation, guess_columns, labelled_rows, perplexity, runs_frame
from core.lab.finetune import finetune, finetune_causal, instruction_pairs
from core.models.sentiment import LLM_CHOICE, classifier_choices, model_folder
from ui.backend import current_spec, require_spec

KEY = "lab_"

st.title("Model lab")
st.caption(
    "Test classifiers on your own labelled reviews before trusting them, and fine-tune the embedded one with LoRA. "
    "Labels may be positive/negative/neutral, 1/0, or 1-5 stars."
)


def labelled_upload(prefix: str):
    upload = st.file_uploader("Labelled file (CSV, TSV, Excel or JSON lines)", type=["csv", "tsv", "txt", "xlsx", "jsonl"], key=prefix + "file")
    if upload is None:
        return None, None, None
    try:
        table = read_table(upload.getvalue(), upload.name)
    except MercuryError as error:
        st.error(str(error))
        return None, None, None
    columns = list(map(str, table.frame.columns))
    guess_text, guess_label = guess_columns(columns)
    left, right = st.columns(2)
    text = left.selectbox("Text column", columns, index=columns.index(guess_text), key=prefix + "text")
    label = right.selectbox("Label column", columns, index=columns.index(guess_label), key=prefix + "label")
    st.caption(f"{len(table.frame):,} rows read from {upload.name}.")
    return table, text, label


evaluate_tab, tune_tab, history_tab = st.tabs(["Evaluate", "Fine-tune", "History"])

TASK_LABELS = {"sentiment": "Sentiment", "triage": "Email triage (intent)", "generation": "Generation against reference texts"}

with evaluate_tab:
    task = st.radio("Task", list(TASK_LABELS), format_func=TASK_LABELS.get, horizontal=True, key=KEY + "task")
    table, text_column, label_column = labelled_upload(KEY + "eval_")
    spec = current_spec()
    options = classifier_choices(spec)
    if task == "generation":
        st.caption(f"The text column holds prompts and the label column reference texts; {spec.label if spec else 'the sidebar backend'} answers each prompt, scored by BLEU and ROUGE.")
        if table is not None and spec and st.button("Evaluate", type="primary", key=KEY + "evaluate_generation"):
            try:
                with st.spinner("Generating..."):
                    generated = evaluate_generation(table, text_column, label_column, spec=require_spec())
            except MercuryError as error:
                st.error(str(error))
            else:
                cols = st.columns(4)
                for col, (label, value) in zip(cols, [("BLEU", generated["bleu"]), ("ROUGE-1", generated["rouge1"]), ("ROUGE-2", generated["rouge2"]), ("ROUGE-L", generated["rouge_l"])]):
                    col.metric(label, value)
                st.dataframe(pd.DataFrame({k: generated[k] for k in ("prompts", "references", "outputs")}), hide_index=True, width="stretch")
        with st.form(KEY + "perplexity_form"):
            sample = st.text_area("Perplexity of the sidebar's model on a text (Embedded or Local)", key=KEY + "perplexity_text")
            if st.form_submit_button("Measure perplexity") and sample.strip():
                try:
                    value = perplexity(sample, spec=require_spec())
                    st.metric(f"Perplexity · {value['model']}", value["perplexity"], help=f"over {value['tokens']} tokens; lower reads as more expected text")
                except MercuryError as error:
                    st.error(str(error))
    else:
        if task == "triage":
            options = {"embedded": "Embeddings + rules (embedded)", **({LLM_CHOICE: f"LLM: {spec.label}"} if spec and spec.kind != "embedded" else {})}
        chosen = st.multiselect("Classifiers, run on the same rows", list(options), default=list(options)[:2], format_func=options.get, key=f"{KEY}chosen_{task}")
        if table is not None and chosen and st.button("Evaluate", type="primary", key=KEY + "evaluate"):
            results = []
            for choice in chosen:
                with st.spinner(f"Running {options[choice]}..."):
                    try:
                        results.append(evaluate_choice(table, text_column, label_column, task=task, choice=choice, spec=spec))
                    except MercuryError as error:
                        st.error(str(error))
            st.session_state[KEY + "results"] = results
        results = st.session_state.get(KEY + "results", [])
        if results:
            st.dataframe(
                pd.DataFrame([{k: r[k] for k in ("model", "n", "accuracy", "macro_f1", "rows_per_s", "cost_per_1000_usd")} for r in results]),
                hide_index=True, width="stretch",
            )
            columns = st.columns(len(results))
            for column, result in zip(columns, results):
                with column:
                    st.markdown(f"**{result['model']}**")
                    st.dataframe(pd.DataFrame(result["per_class"]).T, width="stretch")
                    matrix = px.imshow(result["confusion"], x=result["labels"], y=result["labels"], text_auto=True, color_continuous_scale="Blues", labels={"x": "predicted", "y": "true", "color": "rows"})
                    matrix.update_layout(height=300, margin=dict(l=10, r=10, t=10, b=10), coloraxis_showscale=False)
                    st.plotly_chart(matrix, width="stretch", key=f"{KEY}matrix_{result['model']}")

with tune_tab:
    st.write(
        "LoRA trains small low-rank matrices in the MiniLM encoder's attention and a linear head, instead of every weight. "
        "Rows are split 70 / 15 / 15 into train, validation and test (stratified); training stops when validation macro F1 stops improving."
    )
    table, text_column, label_column = labelled_upload(KEY + "tune_")
    left, middle, right = st.columns(3)
    learning_rate = left.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3], value=1e-3, key=KEY + "lr")
    epochs = middle.slider("Epochs (at most)", 1, 10, 4, key=KEY + "epochs")
    rank = right.select_slider("LoRA rank", [4, 8, 16, 32], value=8, key=KEY + "rank")
    name = st.text_input("Save as", value=f"sentiment-{time.strftime('%Y%m%d-%H%M')}", key=KEY + "name")
    if table is not None and st.button("Fine-tune", type="primary", key=KEY + "tune"):
        try:
            texts, labels = labelled_rows(table, text_column, label_column)
        except MercuryError as error:
            st.error(str(error))
            st.stop()
        chart, status = st.empty(), st.empty()
        losses: list[dict] = []

        def on_step(row: dict) -> None:
            if "loss" in row:
                losses.append(row)
                if row["step"] % 5 == 0:
                    chart.line_chart(pd.DataFrame(losses).set_index("step")["loss"], height=220)
            else:
                status.info(f"Epoch {row['epoch']}: validation macro F1 {row['val_macro_f1']:.3f}, accuracy {row['val_accuracy']:.3f}")

        folder = model_folder(name)
        try:
            with st.spinner(f"Fine-tuning on {len(texts):,} rows..."):
                st.session_state[KEY + "tuned"] = finetune(texts, labels, folder, epochs=epochs, lora_r=rank, learning_rate=learning_rate, on_step=on_step)
        except MercuryError as error:
            st.error(str(error))
    tuned = st.session_state.get(KEY + "tuned")
    if tuned is not None:
        st.success(f"Saved {tuned.model_id} in {tuned.seconds:.0f} s (best epoch {tuned.best_epoch} of {tuned.epochs_run}). It is now a classifier choice on the Sentiment page.")
        st.write(f"Split: {tuned.split['train']:,} train, {tuned.split['validation']:,} validation, {tuned.split['test']:,} test.")
        st.dataframe(
            pd.DataFrame(
                [
                    {"model": "fine-tuned", "split": "validation", "accuracy": tuned.validation["accuracy"], "macro_f1": tuned.validation["macro_f1"]},
                    {"model": "fine-tuned", "split": "test", "accuracy": tuned.test["accuracy"], "macro_f1": tuned.test["macro_f1"]},
                    {"model": "embedded baseline", "split": "test", "accuracy": tuned.baseline_test["accuracy"], "macro_f1": tuned.baseline_test["macro_f1"]},
                ]
            ),
            hide_index=True, width="stretch",
        )
        history = pd.DataFrame(tuned.history)
        if "loss" in history:
            st.plotly_chart(px.line(history.dropna(subset=["loss"]), x="step", y="loss", title="Training loss"), width="stretch", key=KEY + "loss_chart")

    st.divider()
    st.subheader("The language model, on your approved replies and saved content")
    pairs = instruction_pairs()
    st.write(
        f"{len(pairs):,} instruction and response pairs: approved email replies and content saved in the library. "
        "LoRA trains the sidebar's Embedded or Local model on them (the GPU when there is one), split 80/10/10 with early stopping on validation loss."
    )
    if st.button("Fine-tune the language model", key=KEY + "tune_lm", disabled=len(pairs) < 6, help="Needs at least six pairs."):
        lm_chart = st.empty()
        lm_losses: list[dict] = []

        def on_lm_step(row: dict) -> None:
            if "loss" in row:
                lm_losses.append(row)
                lm_chart.line_chart(pd.DataFrame(lm_losses).set_index("step")["loss"], height=200)

        try:
            with st.spinner("Fine-tuning the language model..."):
                lm = finetune_causal(pairs, model_folder(f"lm-{time.strftime('%Y%m%d-%H%M')}"), spec=require_spec(), on_step=on_lm_step)
        except MercuryError as error:
            st.error(str(error))
        else:
            st.success(f"Saved the adapter to {lm['adapter']} in {lm['seconds']:.0f} s: test perplexity {lm['test_perplexity']}. Choose Local in the sidebar with that folder as the model to use it.")

with history_tab:
    runs = runs_frame()
    if runs.empty:
        st.info("No evaluations yet. Every run is saved here, so a drop on new data shows.")
    else:
        st.plotly_chart(px.line(runs.sort_values("created_at"), x="created_at", y="macro_f1", color="model", markers=True, title="Macro F1 over time"), width="stretch", key=KEY + "history_chart")
        st.dataframe(runs, hide_index=True, width="stretch")
