"""Safety flags computed by code (never by a model), and the email wrapped as data for a prompt."""
from __future__ import annotations

import re

from core.grounding import URL
from core.i18n import Msg
from core.mail.reading import ParsedEmail

INJECTION = re.compile(
    r"ignore\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|earlier|your)\s+(?:instructions|prompts?|rules|messages)"
    r"|disregard\s+(?:all\s+|any\s+)?(?:the\s+)?(?:previous|prior|above|your)"
    r"|forget\s+(?:all\s+)?(?:your|previous)\s+(?:instructions|rules)"
    r"|system\s+prompt|internal\s+notes?|developer\s+mode|jailbreak|you\s+are\s+now\s+|act\s+as\s+(?:an?\s+)?"
    r"|new\s+instructions"
    r"|(?:reveal|print|repeat|show|output|recite|tell\s+me)\s+(?:me\s+)?(?:(?:all|the|your|of|exact|full|text|words|contents?)\s+){0,5}(?:instructions|prompt|rules|notes|system\s+message)"
    r"|<\|?(?:im_start|system|assistant)\|?>|^\s*(?:system|assistant)\s*:"
    r"|ignoriere\s+(?:alle\s+)?(?:vorherigen\s+)?anweisungen|ignore[zr]?\s+les\s+instructions|ignora\s+las\s+instrucciones",
    re.IGNORECASE | re.MULTILINE,
)
_RISKY_ATTACHMENT = re.compile(r"\.(?:exe|scr|js|vbs|bat|cmd|jar|msi|iso|html?|zip)$", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>\"')\]]+|www\.[^\s<>\"')\]]+", re.IGNORECASE)


def safety_flags(mail: ParsedEmail) -> list[Msg]:
    """Why a person should read this mail before any reply: decided by code, never by the model."""
    flags = []
    # the sender's name and the subject are written by the sender too: untrusted like the body
    if INJECTION.search(f"{mail.sender}\n{mail.subject}\n{mail.body}\n{mail.hidden_text}"):
        flags.append(Msg("contains instructions aimed at the assistant"))
    if mail.hidden_text.strip():
        flags.append(Msg("hides text from the reader (kept away from the model)"))
    remote = [src for src in mail.images if src.lower().startswith(("http:", "https:", "//"))]
    if remote:
        flags.append(Msg("loads {count} remote image(s)", count=len(remote)))
    links = set(mail.links) | set(URL.findall(mail.body))
    if len(links) >= 3:
        flags.append(Msg("holds {count} links", count=len(links)))
    risky = [a for a in mail.attachments if _RISKY_ATTACHMENT.search(a or "")]
    if risky:
        flags.append(Msg("has risky attachments: {files}", files=", ".join(risky)))
    return flags


def delimited(mail: ParsedEmail) -> str:
    """The email as data: tag look-alikes inside it are defused so it cannot close the block."""
    def clean(text: str) -> str:
        return re.sub(r"</?\s*email\s*>", "[tag removed]", text, flags=re.IGNORECASE)

    return f"<email>\nFrom: {clean(mail.sender)}\nSubject: {clean(mail.subject)}\n\n{clean(mail.body)[:4000]}\n</email>"
