"""Themes: the aspects marketers ask about, each described once in plain English and matched by the
multilingual encoder, so a Polish complaint about a courier lands in the same theme as an English one.

A review takes the (at most two) themes it is clearly closer to than to the others: its similarity
to a theme's closest description, less its mean over all themes, at least MARGIN. Set on the
reviews of bench/data/reviews_multilingual.tsv: at 0.02 four reviews in five take a theme.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from core.models.encoders import encoder
from core.shared import shared

THEMES: dict[str, tuple[str, ...]] = {
    "price": ("The price is too high, or good value for money", "expensive, cheap, overpriced, worth the money", "hidden fees and extra charges on the bill"),
    "delivery": ("The parcel delivery was late or fast", "courier, shipping and package arrival", "the order arrived damaged or never arrived"),
    "quality": ("The product broke quickly, or is well made and durable", "poor build quality, defective, cheap materials", "sturdy, solid, lasts a long time"),
    "support": ("Customer service staff were helpful or rude", "support did not answer my emails or calls", "the agent solved my problem"),
    "usability": ("Easy or difficult to set up and use", "the app is confusing, crashes, hard to install", "simple to assemble, intuitive interface"),
    "battery": ("Battery life and charging", "the battery drains fast or stops charging"),
    "sound": ("Sound quality, audio, noise and volume", "the speaker or headphones sound crisp or crackle"),
    "cleanliness": ("The room or place was clean or dirty", "dirty towels, filthy, spotless"),
    "food": ("The taste of the food and drinks", "delicious meal, bland, undercooked, stale"),
}
MARGIN = 0.02
MOST = 2


class ThemeMatcher:
    def __init__(self):
        self.names = list(THEMES)
        phrases = [phrase for name in self.names for phrase in THEMES[name]]
        self.owner = np.array([self.names.index(name) for name in self.names for _ in THEMES[name]])
        self.vectors = encoder().encode(phrases)

    def match(self, texts: Sequence[str]) -> list[list[str]]:
        if not len(texts):
            return []
        similarity = encoder().encode(list(texts)) @ self.vectors.T
        best = np.column_stack([similarity[:, self.owner == i].max(axis=1) for i in range(len(self.names))])
        lead = best - best.mean(axis=1, keepdims=True)
        return [[self.names[j] for j in np.argsort(-row)[:MOST] if row[j] >= MARGIN] for row in lead]


def themes_of(texts: Sequence[str]) -> list[list[str]]:
    """The themes of each text, closest first."""
    return shared("themes", ThemeMatcher).match(texts)
