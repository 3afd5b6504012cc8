"""The email intent classifier: a logistic-regression head over the encoder's embeddings, shipped
trained (core/assets/intent_head.json, made by scripts/train_intent_head.py from the training splits
of our own examples, real-register requests and real spam; bench/triage.py scores the held-out
splits), plus word rules that nudge it toward an intent a mail names outright. A close call between
two intents is said, so the mail goes to a person rather than to a confident wrong queue.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from core.i18n import Msg
from core.models.encoders import encoder
from core.shared import shared
from core.text import unaccented

ASSETS = Path(__file__).resolve().parent.parent / "assets"
HEAD_PATH = ASSETS / "intent_head.json"
# Below this lead of the first intent over the second (scores after the word rules), triage asks a person.
CLOSE_CALL = 0.15
INTENTS = ("pricing", "order_status", "refund_return", "complaint", "technical_support", "appointment", "partnership", "spam_other")
KEYWORD_WEIGHT = 0.25  # probability added per matching word family, at most two

# Words that point to an intent; they let the classifier generalise past its few examples and
# name an intent outright when the examples have not seen its wording.
_INTENT_WORDS = {
    "pricing": (
        r"pric\w*|cost\w*|how much|quote|discount\w*|tarif\w*|rabatt|preis\w*|precio\w*|prix|coût|kosten|angebot|per (?:seat|unit|"
        r"month|year)|cheaper|expensive|fee\b|plans?\b|preț\w*|pret\w*|reducere\w*|ofert\w*|cen[aęy]\b|cennik|rabat\w*|zniżk\w*|"
        r"wycen\w*"
    ),
    "order_status": (
        r"where is my|tracking|track\w*|shipped|ship\b|shipping date|dispatch\w*|deliver(?:y|ed) (?:date|status)|"
        r"not (?:yet )?(?:arrived|received)|hasn'?t arrived|parcel|package|courier|lieferung|bestellung|sendung|commande|suivi|"
        r"pedido|seguimiento|order (?:no|number|ref|#)|unde (?:este|e) comanda|comanda mea|colet\w*|curier\w*|gdzie jest|paczk\w*|"
        r"przesyłk\w*|kurier\w*|zamówieni\w*"
    ),
    "refund_return": (
        r"refund\w*|return\w*|money back|send (?:it )?back|exchange|swap|charged twice|double charge|erstatt\w*|rücksend\w*|"
        r"zurück\w*|rembours\w*|retourn\w*|devol\w*|reembols\w*|retur\w*|banii înapoi|rambursa\w*|înapoi banii|zwrot\w*|zwróc\w*|"
        r"reklamacj\w*"
    ),
    "complaint": (
        r"complain\w*|disappoint\w*|unacceptable|terrible|disgrace\w*|rude|shocking|worst|appalling|fed up|not happy|unhappy|"
        r"beschwer\w*|verärgert|unzufrieden|mécontent|déçu|inadmissible|réclamation|queja|nemulțumit\w*|inadmisibil|reclamați\w*|"
        r"dezamăgit\w*|niezadowolon\w*|skandal\w*|rozczarowan\w*|skarg\w*"
    ),
    "technical_support": (
        r"error|log ?in|sign ?in|password|crash\w*|freez\w*|bug\b|not working|won'?t (?:connect|turn on|pair)|pair\w*|bluetooth|"
        r"wi-?fi|firmware|install\w*|set ?up|sync\w*|update|reset|einloggen|anmeld\w*|fehler|connexion|connecter|conectar|"
        r"parol\w*|nu merge|nu funcționează|eroare|hasł\w*|nie działa|błąd\w*|zalogow\w*"
    ),
    "appointment": (
        r"appointment|book(?:ing)?\b|reschedul\w*|slot\w*|schedul\w*|availab\w*|demo\b|consultation|fitting|visit|table for|"
        r"termin\w*|rendez-vous|cita\b|reserv\w*|programar\w*|wizyt\w*|umówić|rezerwacj\w*"
    ),
    "partnership": (
        r"partner\w*|collaborat\w*|sponsor\w*|influencer|affiliate|wholesale|reseller|stock your|distribut\w*|press\b|journalist|"
        r"interview|podcast|media kit|co-?brand\w*|co-marketing|kooperation|zusammenarbeit|partenariat|parteneriat\w*|"
        r"colaborar\w*|współprac\w*|hurtow\w*"
    ),
    "spam_other": (
        r"unsubscribe|winner|you(?:'ve| have)? won\b|prize|claim (?:now|your)|crypto|bitcoin|seo\b|ranking|loan\w*|inheritance|"
        r"bank details|verify your (?:login|password|account)|out of (?:the )?office|automatic reply|auto-?reply|"
        r"delivery status notification|no need to reply|click here|investors?|returns of \d+"
    ),
}
# Matched on the text without diacritics, so "zamowienie" is read as "zamówienie".
_INTENT_RE = {intent: re.compile(rf"\b(?:{unaccented(words)})", re.IGNORECASE) for intent, words in _INTENT_WORDS.items()}


@dataclass
class IntentGuess:
    intent: str
    reason: Msg
    runner_up: str  # the second most likely intent
    lead: float  # how far the first is ahead of the second, 0 to 1

    @property
    def close_call(self) -> bool:
        return self.lead < CLOSE_CALL


class IntentClassifier:
    """Softmax over the shipped head's scores, then the word rules."""

    def __init__(self, head_path: Path = HEAD_PATH):
        head = json.loads(Path(head_path).read_text())
        self.classes = head["classes"]
        self.coef = np.array(head["coef"], dtype=np.float32)
        self.intercept = np.array(head["intercept"], dtype=np.float32)

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        logits = encoder().encode(list(texts)) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict(self, texts: Sequence[str]) -> list[IntentGuess]:
        results = []
        for text, p in zip(texts, self.probabilities(texts)):
            scores = np.array(p)
            plain = unaccented(text)
            hits = {}
            for i, intent in enumerate(self.classes):
                found = {text[m.start() : m.end()].lower() for m in _INTENT_RE[intent].finditer(plain)}
                if found:
                    hits[intent] = sorted(found)[:3]
                    scores[i] += KEYWORD_WEIGHT * min(len(found), 2)
            first, second = np.argsort(-scores)[:2]
            best = self.classes[int(first)]
            values = {"intent": Msg(best.replace("_", " ")), "share": round(100 * p[self.classes.index(best)])}
            if best in hits:
                reason = Msg("close to {intent} examples ({share}%); mentions {words}", words=", ".join(f"'{w}'" for w in hits[best]), **values)
            else:
                reason = Msg("close to {intent} examples ({share}%)", **values)
            lead = min(1.0, float(scores[first] - scores[second]))
            results.append(IntentGuess(best, reason, self.classes[int(second)], round(lead, 3)))
        return results


def intent_classifier() -> IntentClassifier:
    return shared("email-intents", IntentClassifier)
