import time

import pandas as pd
import plotly.express as px
import streamlit as st

from core.classifiers import LLM_CHOICE, classifier_choices
from core.errors import MercuryError
from core.i18n import N_, Msg
from core.ingest import read_table
from core.jobs.kinds import labelled_payload
from core.jobs.store import JobView, recent_jobs
from core.lab.evaluate import evaluate_choice, evaluate_generation, guess_columns, labelled_rows, perplexity, runs_frame
from core.lab.finetune import FineTuneResult, finetune, finetune_causal, instruction_pairs
from core.models.sentiment import model_folder
from ui.backend import current_spec, require_spec
from ui.i18n import labels, num, say, t
from ui.jobs import follow_job, on_worker

KEY = "lab_"

st.title(t("Model lab"))
st.caption(t(
    "Test classifiers on your own labelled reviews before trusting them, and fine-tune the embedded one with LoRA. "
    "Labels may be positive/negative/neutral, 1/0, or 1-5 stars."
))


def labelled_upload(prefix: str):
    upload = st.file_uploader(t("Labelled file (CSV, TSV, Excel or JSON lines)"), type=["csv", "tsv", "txt", "xlsx", "jsonl"], key=prefix + "file")
    if upload is None:
        return None, None, None
    try:
        table = read_table(upload.getvalue(), upload.name)
    except MercuryError as error:
        st.error(say(error))
        return None, None, None
    columns = list(map(str, table.frame.columns))
    guess_text, guess_label = guess_columns(columns)
    left, right = st.columns(2)
    text = left.selectbox(t("Text column"), columns, index=columns.index(guess_text), key=prefix + "text")
    label = right.selectbox(t("Label column"), columns, index=columns.index(guess_label), key=prefix + "label")
    st.caption(t("{count} rows read from {file}.", count=len(table.frame), file=upload.name))
    return table, text, label


def evaluate_here(table, text_column: str, label_column: str, task: str, chosen: list, options: dict, spec) -> list[dict]:
    results = []
    for choice in chosen:
        with st.spinner(t("Running {classifier}...", classifier=say(options[choice]))):
            try:
                results.append(evaluate_choice(table, text_column, label_column, task=task, choice=choice, spec=spec))
            except MercuryError as error:
                st.error(say(error))
    return results


def _evaluated(view: JobView) -> None:
    st.session_state[KEY + "results"] = view.result["results"]


def _tuned(view: JobView) -> None:
    st.session_state[KEY + "tuned"] = FineTuneResult(**view.result)


def _tuned_lm(view: JobView) -> None:
    st.session_state[KEY + "lm"] = view.result


def last_tuned() -> FineTuneResult | None:
    """The newest fine-tune a worker finished, whoever asked: what the tab shows after a reload."""
    finished = [job for job in recent_jobs(10, kind="finetune") if job.state == "done"]
    return FineTuneResult(**finished[0].result) if finished else None


evaluate_tab, tune_tab, history_tab = st.tabs([t("Evaluate"), t("Fine-tune"), t("History")])

TASK_LABELS = {"sentiment": N_("Sentiment"), "triage": N_("Email triage (intent)"), "generation": N_("Generation against reference texts")}

with evaluate_tab:
    task = st.radio(t("Task"), list(TASK_LABELS), format_func=labels(TASK_LABELS), horizontal=True, key=KEY + "task")
    table, text_column, label_column = labelled_upload(KEY + "eval_")
    spec = current_spec()
    options = classifier_choices(spec)
    if task == "generation":
        st.caption(
            t(
                "The text column holds prompts and the label column reference texts; {backend} answers each prompt, scored by BLEU and ROUGE.",
                backend=spec.label if spec else t("the sidebar backend"),
            )
        )
        if table is not None and spec and st.button(t("Evaluate"), type="primary", key=KEY + "evaluate_generation"):
            try:
                with st.spinner(t("Generating...")):
                    generated = evaluate_generation(table, text_column, label_column, spec=require_spec())
            except MercuryError as error:
                st.error(say(error))
            else:
                cols = st.columns(4)
                for col, (label, value) in zip(
                    cols, [("BLEU", generated["bleu"]), ("ROUGE-1", generated["rouge1"]), ("ROUGE-2", generated["rouge2"]), ("ROUGE-L", generated["rouge_l"])]
                ):
                    col.metric(label, value)
                st.dataframe(pd.DataFrame({k: generated[k] for k in ("prompts", "references", "outputs")}), hide_index=True, width="stretch")
        with st.form(KEY + "perplexity_form"):
            sample = st.text_area(t("Perplexity of the sidebar's model on a text (Embedded or Local)"), key=KEY + "perplexity_text")
            if st.form_submit_button(t("Measure perplexity")) and sample.strip():
                try:
                    value = perplexity(sample, spec=require_spec())
                    st.metric(
                        t("Perplexity · {model}", model=value["model"]),
                        value["perplexity"],
                        help=t("over {count} tokens; lower reads as more expected text", count=value["tokens"]),
                    )
                except MercuryError as error:
                    st.error(say(error))
    else:
        if task == "triage":
            options = {
                "embedded": Msg("Embeddings + rules (embedded)"),
                **({LLM_CHOICE: Msg("LLM: {backend}", backend=spec.label)} if spec and spec.classifies else {}),
            }
        chosen = st.multiselect(
            t("Classifiers, run on the same rows"),
            list(options),
            default=list(options)[:2],
            format_func=labels(options),
            placeholder=t("Choose options"),
            key=f"{KEY}chosen_{task}",
        )
        if table is not None and chosen and st.button(t("Evaluate"), type="primary", key=KEY + "evaluate"):
            upload = st.session_state[KEY + "eval_file"]
            inputs = {"name": upload.name, "task": task, "choices": chosen, "text_column": text_column, "label_column": label_column}
            if on_worker("evaluate", KEY + "eval_", inputs, spec=spec, payload=upload.getvalue()):  # it goes on whatever the person does next
                st.session_state.pop(KEY + "results", None)
            else:
                st.session_state[KEY + "results"] = evaluate_here(table, text_column, label_column, task, chosen, options, spec)
        follow_job("evaluate", KEY + "eval_", N_("Evaluating on the worker: {said}. You may leave this page."), _evaluated)

        results = st.session_state.get(KEY + "results", [])
        if results:
            st.dataframe(
                pd.DataFrame([{k: r[k] for k in ("model", "n", "accuracy", "macro_f1", "rows_per_s", "cost_per_1000_usd")} for r in results]),
                hide_index=True,
                width="stretch",
            )
            columns = st.columns(len(results))
            for column, result in zip(columns, results):
                with column:
                    st.markdown(f"**{result['model']}**")
                    st.dataframe(pd.DataFrame(result["per_class"]).T, width="stretch")
                    matrix = px.imshow(
                        result["confusion"],
                        x=result["labels"],
                        y=result["labels"],
                        text_auto=True,
                        color_continuous_scale="Blues",
                        labels={"x": t("predicted"), "y": t("true"), "color": t("rows")},
                    )
                    matrix.update_layout(height=300, margin=dict(l=10, r=10, t=10, b=10), coloraxis_showscale=False)
                    st.plotly_chart(matrix, width="stretch", key=f"{KEY}matrix_{result['model']}")

with tune_tab:
    st.write(
        t(
            "LoRA trains small low-rank matrices in the MiniLM encoder's attention and a linear head, instead of every weight. "
            "Rows are split 70 / 15 / 15 into train, validation and test (stratified); training stops when validation macro F1 stops improving."
        )
    )
    table, text_column, label_column = labelled_upload(KEY + "tune_")
    left, middle, right = st.columns(3)
    learning_rate = left.select_slider(t("Learning rate"), [1e-4, 3e-4, 1e-3, 3e-3], value=1e-3, key=KEY + "lr")
    epochs = middle.slider(t("Epochs (at most)"), 1, 10, 4, key=KEY + "epochs")
    rank = right.select_slider(t("LoRA rank"), [4, 8, 16, 32], value=8, key=KEY + "rank")
    name = st.text_input(t("Save as"), value=f"sentiment-{time.strftime('%Y%m%d-%H%M')}", key=KEY + "name")
    if table is not None and st.button(t("Fine-tune"), type="primary", key=KEY + "tune"):
        try:
            texts, labels = labelled_rows(table, text_column, label_column)
        except MercuryError as error:
            st.error(say(error))
            st.stop()
        chart, status = st.empty(), st.empty()
        losses: list[dict] = []

        def on_step(row: dict) -> None:
            if "loss" in row:
                losses.append(row)
                if row["step"] % 5 == 0:
                    chart.line_chart(pd.DataFrame(losses).set_index("step")["loss"], height=220)
            else:
                status.info(
                    t(
                        "Epoch {epoch}: validation macro F1 {f1}, accuracy {accuracy}",
                        epoch=row["epoch"],
                        f1=num(row["val_macro_f1"], 3),
                        accuracy=num(row["val_accuracy"], 3),
                    )
                )

        folder = model_folder(name)
        inputs = {"out": str(folder), "epochs": epochs, "lora_r": rank, "learning_rate": learning_rate}
        if on_worker("finetune", KEY, inputs, payload=labelled_payload(texts, labels)):  # the training goes on whatever the person does next
            st.session_state.pop(KEY + "tuned", None)
        else:
            try:
                with st.spinner(t("Fine-tuning on {count} rows...", count=len(texts))):
                    st.session_state[KEY + "tuned"] = finetune(texts, labels, folder, epochs=epochs, lora_r=rank, learning_rate=learning_rate, on_step=on_step)
            except MercuryError as error:
                st.error(say(error))
    running = follow_job("finetune", KEY, N_("Fine-tuning on the worker: {said}. You may leave this page."), _tuned)
    tuned = st.session_state.get(KEY + "tuned") or (None if running else last_tuned())
    if tuned is not None:
        st.success(
            t(
                "Saved {model} in {seconds} s (best epoch {best} of {epochs}). It is now a classifier choice on the Sentiment page.",
                model=tuned.model_id,
                seconds=round(tuned.seconds),
                best=tuned.best_epoch,
                epochs=tuned.epochs_run,
            )
        )
        st.write(
            t(
                "Split: {train} train, {validation} validation, {test} test.",
                train=tuned.split["train"],
                validation=tuned.split["validation"],
                test=tuned.split["test"],
            )
        )
        st.dataframe(
            pd.DataFrame(
                [
                    {"model": t("fine-tuned"), "split": t("validation"), "accuracy": tuned.validation["accuracy"], "macro_f1": tuned.validation["macro_f1"]},
                    {"model": t("fine-tuned"), "split": t("test"), "accuracy": tuned.test["accuracy"], "macro_f1": tuned.test["macro_f1"]},
                    {
                        "model": t("embedded baseline"),
                        "split": t("test"),
                        "accuracy": tuned.baseline_test["accuracy"],
                        "macro_f1": tuned.baseline_test["macro_f1"],
                    },
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        history = pd.DataFrame(tuned.history)
        if "loss" in history:
            st.plotly_chart(
                px.line(history.dropna(subset=["loss"]), x="step", y="loss", title=t("Training loss"), labels={"step": t("step"), "loss": t("loss")}),
                width="stretch",
                key=KEY + "loss_chart",
            )

    st.divider()
    st.subheader(t("The language model, on your approved replies and saved content"))
    pairs = instruction_pairs()
    st.write(
        t(
            "{count} instruction and response pairs: approved email replies and content saved in the library. "
            "LoRA trains the sidebar's Embedded or Local model on them (the GPU when there is one), split 80/10/10 with early stopping on validation loss.",
            count=len(pairs),
        )
    )
    if st.button(t("Fine-tune the language model"), key=KEY + "tune_lm", disabled=len(pairs) < 6, help=t("Needs at least six pairs.")):
        lm_chart = st.empty()
        lm_losses: list[dict] = []

        def on_lm_step(row: dict) -> None:
            if "loss" in row:
                lm_losses.append(row)
                lm_chart.line_chart(pd.DataFrame(lm_losses).set_index("step")["loss"], height=200)

        folder, spec = model_folder(f"lm-{time.strftime('%Y%m%d-%H%M')}"), require_spec()
        if not on_worker("finetune_lm", KEY + "lm_", {"out": str(folder)}, spec=spec):
            try:
                with st.spinner(t("Fine-tuning the language model...")):
                    st.session_state[KEY + "lm"] = finetune_causal(pairs, folder, spec=spec, on_step=on_lm_step)
            except MercuryError as error:
                st.error(say(error))
    follow_job("finetune_lm", KEY + "lm_", N_("Fine-tuning on the worker: {said}. You may leave this page."), _tuned_lm)
    if lm := st.session_state.get(KEY + "lm"):
        st.success(
            t(
                "Saved the adapter to {folder} in {seconds} s: test perplexity {perplexity}. Choose Local in the sidebar with that folder as the "
                "model to use it.",
                folder=str(lm["adapter"]),
                seconds=round(lm["seconds"]),
                perplexity=lm["test_perplexity"],
            )
        )

with history_tab:
    runs = runs_frame()
    if runs.empty:
        st.info(t("No evaluations yet. Every run is saved here, so a drop on new data shows."))
    else:
        st.plotly_chart(
            px.line(
                runs.sort_values("created_at"),
                x="created_at",
                y="macro_f1",
                color="model",
                markers=True,
                title=t("Macro F1 over time"),
                labels={"created_at": t("date"), "macro_f1": t("macro F1"), "model": t("model")},
            ),
            width="stretch",
            key=KEY + "history_chart",
        )
        st.dataframe(runs, hide_index=True, width="stretch")
