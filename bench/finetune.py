"""Model lab figures: LoRA fine-tune on the 1,000 Amazon sentences, then accuracy on other domains.

Run: taskset -c 0,1 .venv/bin/python bench/finetune.py [--epochs 4] [--lora-r 8]
Trains on ../shared/data/sentiment/amazon_cells_labelled.txt (70 / 15 / 15 split, early stopping
on validation macro F1), then scores the 80 sentences of bench/data/other_domains.tsv (restaurants,
films, hotels, retail, apps, services), which no model here was tuned on, against the embedded head.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from scripts.train_sentiment_head import DATA, load_labelled  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lora-r", type=int, default=8)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp())
    os.environ["DATABASE_URL"] = f"sqlite:///{scratch}/bench.db"
    import torch

    from core.classifiers import get_classifier
    from core.lab.evaluate import metrics, predictions
    from core.lab.finetune import finetune
    from core.models.lora import LoraClassifier

    texts, labels = load_labelled(DATA)
    names = ["positive" if y else "negative" for y in labels]
    started = time.perf_counter()
    result = finetune(texts, names, scratch / "model", epochs=args.epochs, lora_r=args.lora_r)
    train_s = time.perf_counter() - started
    other_texts, other_labels = load_labelled(ROOT / "bench" / "data" / "other_domains.tsv")
    truth = ["positive" if y else "negative" for y in other_labels]
    tuned = metrics(truth, predictions(LoraClassifier(scratch / "model"), other_texts, truth))
    head = metrics(truth, predictions(get_classifier("embedded"), other_texts, truth))
    print(json.dumps({
        "torch_threads": torch.get_num_threads(),
        "rows": len(texts),
        "split": result.split,
        "finetune_s": round(train_s, 1),
        "best_epoch": result.best_epoch,
        "epochs_run": result.epochs_run,
        "amazon_test_accuracy": result.test["accuracy"],
        "amazon_test_accuracy_embedded_head": result.baseline_test["accuracy"],
        "other_domains_accuracy": tuned["accuracy"],
        "other_domains_macro_f1": tuned["macro_f1"],
        "other_domains_accuracy_embedded_head": head["accuracy"],
    }, indent=2))


if __name__ == "__main__":
    main()
