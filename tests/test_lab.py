"""Model lab: metrics on worked examples, labels in every common shape, a real tiny LoRA fine-tune."""
import json
import math

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.classifiers import get_classifier
from core.ingest import IngestError, Table
from core.lab.evaluate import evaluate, evaluate_generation, evaluate_triage, metrics, normalise_labels, perplexity, runs_frame
from core.lab.finetune import finetune, finetune_causal, instruction_pairs
from core.mail.queue import add_emails, approve, draft_email
from core.mail.reading import ParsedEmail
from core.models.lora import LoraClassifier
from tests.conftest import ROOT, run_cli

GOOD = [
    "Great sound and a comfortable fit",
    "I love these, the battery lasts forever",
    "Excellent value, works perfectly",
    "Fantastic quality, highly recommend",
    "Very happy with this purchase",
    "Superb and fast delivery",
]
BAD = [
    "Broke after two days, awful",
    "Terrible sound and it hurts my ears",
    "Waste of money, do not buy",
    "The worst headset I have owned",
    "Stopped charging, very disappointed",
    "Cheap plastic that cracked at once",
]


def test_metrics_on_a_worked_example():
    # Six reviews, counted by hand: 4 right; positive 2 of 3 predicted right and 2 of 3 found,
    # negative 1 of 2 and 1 of 2, neutral 1 of 1.
    truth = ["positive", "positive", "positive", "negative", "negative", "neutral"]
    predicted = ["positive", "positive", "negative", "negative", "positive", "neutral"]
    result = metrics(truth, predicted)
    assert result["accuracy"] == 0.6667
    assert result["per_class"]["positive"] == {"precision": 0.6667, "recall": 0.6667, "f1": 0.6667, "support": 3}
    assert result["per_class"]["negative"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert result["per_class"]["neutral"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert result["macro_f1"] == round((2 / 3 + 0.5 + 1) / 3, 4)
    # rows: the true label (negative, neutral, positive); columns: what was predicted
    assert result["labels"] == ["negative", "neutral", "positive"] and result["confusion"] == [[1, 0, 1], [0, 1, 0], [1, 0, 2]]


def test_a_label_only_the_classifier_uses_does_not_dilute_macro_f1():
    # Gold labels are binary; one prediction says neutral. Macro F1 averages over the gold labels
    # only (positive 1.0, negative 0.0), but the neutral column still shows in the confusion matrix.
    result = metrics(["positive", "negative"], ["positive", "neutral"])
    assert result["macro_f1"] == 0.5 and result["accuracy"] == 0.5
    assert result["confusion"] == [[0, 1, 0], [0, 0, 0], [0, 0, 1]]


def test_labels_in_words_numbers_and_stars():
    assert list(normalise_labels(pd.Series(["Positive", "neg", "neutral"]))) == ["positive", "negative", "neutral"]
    assert list(normalise_labels(pd.Series([1, 0, 1]))) == ["positive", "negative", "positive"]
    assert list(normalise_labels(pd.Series([5, 3, 1, 2]))) == ["positive", "neutral", "negative", "negative"]
    with pytest.raises(IngestError, match="'maybe' is not one Mercury reads"):
        normalise_labels(pd.Series(["maybe"]))


@pytest.mark.slow
def test_evaluate_is_saved_and_the_cli_prints_the_figures(tmp_path):
    frame = pd.DataFrame({"review": GOOD + BAD, "stars": [5] * 6 + [1] * 6})
    result = evaluate(Table(frame=frame, source="mini.csv"), "review", "stars", get_classifier())
    assert result["n"] == 12 and result["accuracy"] >= 0.9 and set(result["per_class"]) == {"negative", "positive"}
    assert list(runs_frame()["input"]) == ["mini.csv"]
    path = tmp_path / "mini.csv"
    frame.to_csv(path, index=False)
    done = run_cli("evaluate", "--task", "sentiment", "--input", path, "--text-column", "review", "--label-column", "stars", "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert {"accuracy", "macro_f1", "per_class", "n", "rows_per_s"} <= set(printed) and printed["accuracy"] == result["accuracy"]
    bad = run_cli("evaluate", "--input", path, "--text-column", "nope", "--label-column", "stars")
    assert bad.returncode == 2 and bad.stderr.startswith("error: There is no column 'nope'")


@pytest.mark.slow
def test_a_tiny_lora_fine_tune_changes_weights_saves_and_reloads(tmp_path):
    texts, labels = (GOOD + BAD) * 2, (["positive"] * 6 + ["negative"] * 6) * 2
    steps = []
    result = finetune(texts, labels, tmp_path / "model", epochs=2, max_steps=3, batch_size=8, on_step=steps.append)
    assert [s["step"] for s in steps if "loss" in s] == [1, 2, 3] and result.split == {"train": 16, "validation": 4, "test": 4}
    rates = [s["learning_rate"] for s in steps if "loss" in s]
    assert rates[-1] < max(rates), "a linear schedule: the learning rate falls after the warm-up"
    evaluations = [s for s in steps if "val_macro_f1" in s]
    assert evaluations and result.best_epoch == max(evaluations, key=lambda s: s["val_macro_f1"])["epoch"]
    import torch

    saved = tmp_path / "model" / "adapter"
    from safetensors.torch import load_file

    weights = load_file(next(saved.glob("*.safetensors")))
    lora_b = [w for k, w in weights.items() if "lora_B" in k]
    assert lora_b and any(torch.count_nonzero(w) > 0 for w in lora_b), "LoRA B starts at zero: training must move it"
    reloaded = get_classifier(model_dir=str(tmp_path / "model"))
    assert reloaded.model_id == result.model_id
    model = LoraClassifier(tmp_path / "model")
    assert [s.score for s in reloaded.classify(BAD[:3])] == [s.score for s in model.classify(BAD[:3])]
    path = tmp_path / "reviews.csv"
    pd.DataFrame({"text": GOOD[:2] + BAD[:2]}).to_csv(path, index=False)
    done = run_cli("sentiment", path, "--model", tmp_path / "model", "--out", tmp_path / "out.csv")
    assert done.returncode == 0, done.stderr
    assert set(pd.read_csv(tmp_path / "out.csv")["sentiment"]) <= {"positive", "neutral", "negative"}


def test_fine_tune_refuses_too_few_rows(tmp_path):
    with pytest.raises(IngestError, match="at least four rows"):
        finetune(GOOD[:3] + BAD[:3], ["positive"] * 3 + ["negative"] * 3, tmp_path)


def test_lab_page_shows_history():
    evaluate(Table(frame=pd.DataFrame({"t": GOOD + BAD, "l": [1] * 6 + [0] * 6}), source="mini.csv"), "t", "l", get_classifier())
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page("app_pages/lab.py").run()
    assert not at.exception
    assert at.dataframe[-1].value["input"].tolist() == ["mini.csv"]
    at.radio(key="lab_task").set_value("generation").run()
    at.text_area(key="lab_perplexity_text").set_value("Thank you for your order. It will arrive on Monday.")
    next(b for b in at.get("form_submit_button") if b.label == "Measure perplexity").click().run()
    assert not at.exception
    assert at.metric[0].label.startswith("Perplexity · embedded") and float(at.metric[0].value) > 1


@pytest.mark.model
def test_an_evaluation_runs_on_the_worker_and_the_lab_shows_its_figures(tmp_path, monkeypatch):
    from core.jobs import queue, store

    monkeypatch.setenv("MERCURY_DATA_DIR", str(tmp_path / "data"))
    store.worker_seen()  # a worker is alive: the lab submits the evaluation instead of running it in its own script
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    at.switch_page("app_pages/lab.py").run()
    labelled = pd.DataFrame({"review": GOOD + BAD, "stars": [5] * 6 + [1] * 6}).to_csv(index=False).encode()
    at.file_uploader(key="lab_eval_file").upload("stars.csv", labelled, "text/csv").run()
    at.button(key="lab_evaluate").click().run()
    job = store.active_job("evaluate")
    assert job is not None and job.inputs["choices"] == at.multiselect(key="lab_chosen_sentiment").value
    assert any("Evaluating on the worker" in p.text for p in at.get("progress"))
    queue.run_job(job.id)  # the worker's part, here
    at.run()
    assert not at.exception and store.get_job(job.id).state == "done"
    assert at.dataframe[0].value["n"].tolist() == [12] * len(job.inputs["choices"]) and at.dataframe[0].value["accuracy"].iloc[0] > 0.8


def test_triage_evaluation_scores_intents():
    frame = pd.DataFrame(
        {
            "email": ["How much is the headset?", "Where is my parcel? Tracking shows nothing.", "I want a refund for my broken earbuds."],
            "intent": ["pricing", "order_status", "refund_return"],
        }
    )
    result = evaluate_triage(Table(frame=frame, source="mails.csv"), "email", "intent")
    assert result["accuracy"] == 1.0 and result["model"] == "embeddings + rules"
    with pytest.raises(IngestError, match="'gossip' is not an intent"):
        evaluate_triage(Table(frame=frame.assign(intent="gossip"), source="m.csv"), "email", "intent")


@pytest.mark.model
def test_generation_evaluation_against_references_and_perplexity():
    from core.llm import BackendSpec, LLMError
    from tests.openai_server import Reply, ScriptedOpenAIServer

    frame = pd.DataFrame(
        {"prompt": ["Describe the earbuds.", "Describe the case."], "reference": ["the earbuds last thirty hours", "the case fits in a pocket"]}
    )
    with ScriptedOpenAIServer([Reply(text="the earbuds last thirty hours")]) as server:
        spec = BackendSpec(kind="openai", model="m", base_url=server.base_url, api_key="k", timeout=5.0, max_retries=0)
        result = evaluate_generation(Table(frame=frame, source="gen.csv"), "prompt", "reference", spec=spec)
        with pytest.raises(LLMError, match="Perplexity needs a model Mercury runs itself"):
            perplexity("Some text.", spec=spec)
    # Corpus BLEU by hand: of 10, 8, 6 and 4 n-grams, 6, 4, 3 and 2 are in the references (the first
    # answer is its reference; the second shares only "the"), 10 words against 11: exp(1 - 11/10).
    assert result["bleu"] == round(100 * math.exp(1 - 11 / 10) * (6 / 10 * 4 / 8 * 3 / 6 * 2 / 4) ** 0.25, 2)
    outputs = ["the earbuds last thirty hours"] * 2
    assert result["rouge1"] == round((1.0 + lab_rouge1(outputs[1], frame["reference"][1])) / 2, 4)
    fluent = perplexity("Thank you for your order. It will arrive on Monday.")
    scrambled = perplexity("order Monday you arrive. Thank will on your It for")
    assert 1 < fluent["perplexity"] < scrambled["perplexity"] and fluent["tokens"] > 5


def lab_rouge1(candidate, reference):
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True).score(reference, candidate)["rouge1"].fmeasure


@pytest.mark.model
def test_causal_lm_lora_on_approved_replies_and_content(tmp_path):
    from core.brand import Brand
    from core.content.brief import Brief
    from core.content.library import save_piece
    from core.llm.transformers_backend import TransformersBackend

    ids = add_emails([ParsedEmail(subject=f"Order {n}", body=f"Where is order {n}?") for n in range(4)], "test")
    for n, email_id in enumerate(ids):
        draft_email(email_id, Brand(name="Aria", facts=["Orders ship within 2 working days."]))
        approve(email_id, f"Hi,\n\nOrder {n} ships within 2 working days.\n\nAria")
    for n in range(4):
        save_piece(Brief(kind="social", platform="x", topic=f"Launch {n}"), f"Pulse {n}: thirty hours of battery.", checks={})
    pairs = instruction_pairs()
    assert len(pairs) == 8 and "Where is order 0?" in pairs[0]["instruction"] and pairs[0]["response"].startswith("Hi,")
    steps = []
    summary = finetune_causal(pairs, tmp_path / "lm", epochs=1, max_steps=2, batch_size=2, on_step=steps.append)
    assert summary["split"] == {"train": 6, "validation": 1, "test": 1} and [s["step"] for s in steps if "loss" in s] == [1, 2]
    from safetensors.torch import load_file

    weights = load_file(next((tmp_path / "lm" / "adapter").glob("*.safetensors")))
    assert any(float(w.abs().sum()) > 0 for k, w in weights.items() if "lora_B" in k)
    tuned = TransformersBackend(summary["adapter"])
    reply = tuned.complete([{"role": "user", "content": "Where is order 5?"}], max_tokens=8, temperature=0)
    assert reply.text.strip()
