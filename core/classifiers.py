"""Which sentiment classifier scores: the embedded head, a fine-tune saved by the Model lab, or any LLM
backend. A page or the CLI names its choice; this module turns it into a classifier."""
from __future__ import annotations

from pathlib import Path

from core.errors import IngestError
from core.i18n import Msg
from core.llm import resolve_spec
from core.llm.classifier import LLMClassifier
from core.models.sentiment import LAB_FILE, EmbeddedClassifier, saved_models
from core.shared import shared

LLM_CHOICE = "llm"  # the sidebar's (or --backend's) language model as the classifier


def get_classifier(backend: str = "embedded", *, model_dir: str | Path | None = None, spec=None):
    """The classifier for a CLI or page choice: the embedded head (or a fine-tuned one), or an LLM backend."""
    if model_dir:
        if (Path(model_dir) / LAB_FILE).exists():
            from core.models.lora import LoraClassifier  # torch loads only for a fine-tune

            return shared(f"lora:{Path(model_dir).resolve()}", lambda: LoraClassifier(model_dir))
        head = Path(model_dir) / "sentiment_head.json"
        if not head.exists():
            raise IngestError(Msg("{folder} holds no sentiment model (from `python -m core finetune` or a sentiment_head.json).", folder=str(model_dir)))
        return EmbeddedClassifier(head)
    if backend == "embedded":
        return shared("embedded-classifier", EmbeddedClassifier)
    return LLMClassifier(spec or resolve_spec(backend))


def classifier_choices(spec=None) -> dict[str, Msg]:
    """Every classifier a person may pick, by choice key, with its label."""
    choices = {"embedded": Msg("Embedded (multilingual e5, CPU, no key)")}
    choices.update({model_id: Msg("Fine-tuned: {model} (Model lab)", model=model_id) for model_id in saved_models()})
    if spec is not None and spec.classifies:
        choices[LLM_CHOICE] = Msg("The sidebar's LLM backend ({backend}), batched, JSON output", backend=spec.label)
    return choices


def classifier_for(choice: str, spec=None):
    """The classifier behind a choice from classifier_choices (the embedded one when it is gone)."""
    fine_tuned = saved_models()
    if choice == LLM_CHOICE and spec is not None and spec.classifies:
        return get_classifier(spec.kind, spec=spec)
    if choice in fine_tuned:
        return get_classifier(model_dir=fine_tuned[choice])
    return get_classifier()


def choice_for(model_id: str) -> str:
    """The choice that scores with the classifier that produced model_id (to resume a run)."""
    if not model_id or model_id.startswith("embedded"):
        return "embedded"
    return model_id if model_id.startswith("lora:") else LLM_CHOICE
