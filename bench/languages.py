"""How well each review's language is told, and how fast.

Run: .venv/bin/python bench/languages.py
Sets (both written by the Mercury team, never used to tune the detector):
- bench/data/reviews_multilingual.tsv: 330 short reviews in English, Romanian, Polish, Chinese, German;
- bench/data/languages_extra.tsv: 20 in languages beside those (Indonesian, Malay, Czech, Slovak,
  Turkish, Hungarian).
Detectors: Mercury's (core.text.detect_languages: lingua over its 75 languages and over the markets'
18, the high-accuracy models of the two candidates deciding where they differ), against lingua over
the markets' 18 alone (what Mercury ran before) and over all 75 alone. texts/s is a second pass,
once each detector has loaded the models it needs.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rows(name: str) -> list[tuple[str, str]]:
    lines = (ROOT / "bench" / "data" / name).read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        if line.startswith("#") or not line.strip():
            continue
        parts = line.split("\t")
        out.append((parts[0], parts[-1]))
    return out


def main() -> None:
    from lingua import LanguageDetectorBuilder

    from core.text import _market_detector, detect_languages

    def lingua(detector):
        return lambda texts: [x.iso_code_639_1.name.lower() if x else "und" for x in detector.detect_languages_in_parallel_of(texts)]

    detectors = {
        "Mercury (75 + 18, pair decides)": detect_languages,
        "lingua, the markets' 18 only (before)": lingua(_market_detector()),
        "lingua, all 75 only": lingua(LanguageDetectorBuilder.from_all_languages().with_minimum_relative_distance(0.1).with_low_accuracy_mode().build()),
    }
    sets = {"330 reviews, en ro pl zh de": rows("reviews_multilingual.tsv"), "20 reviews in other languages": rows("languages_extra.tsv")}
    print("| detector | " + " | ".join(sets) + " | texts/s |")
    print("|---|" + "---|" * (len(sets) + 1))
    for name, detect in detectors.items():
        for labelled in sets.values():  # a first pass loads the models a detector needs; the second is timed
            detect([text for _, text in labelled])
        cells, total, seconds = [], 0, 0.0
        for labelled in sets.values():
            started = time.perf_counter()
            found = detect([text for _, text in labelled])
            seconds += time.perf_counter() - started
            total += len(labelled)
            right = sum(code == truth for (truth, _), code in zip(labelled, found))
            cells.append(f"{right}/{len(labelled)}")
        print(f"| {name} | " + " | ".join(cells) + f" | {total / seconds:,.0f} |")


if __name__ == "__main__":
    main()
