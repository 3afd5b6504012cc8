"""Writing content: variants from different angles in one batched call (a blog post section by
section from a checked outline), each over-long variant rewritten shorter once, repeats rewritten
once, and every variant grounded (core/llm/guarded.py): one that invents names, handles, numbers,
prices or links, or stops mid-sentence, is rewritten once, then replaced by copy code assembles
from the brief (core/content/assemble.py). And one personalised piece per customer."""
from __future__ import annotations

import re
from typing import Callable, Sequence

import pandas as pd

from core.brand import Brand
from core.content.assemble import assemble
from core.content.brief import ANGLES, SECTION_TOKENS, Brief, Variant, brief_title, clean_text, content_messages, finish_text, system_prompt, task_prompt
from core.content.checks import checks_for, grounding_problems
from core.errors import UserError
from core.grounding import complete_sentences
from core.i18n import Joined, Msg
from core.ingest import find_column
from core.llm import complete, complete_many, resolve_spec, stream
from core.llm.base import Progress
from core.llm.guarded import guard_many
from core.models.encoders import encoder

DUPLICATE_SIMILARITY = 0.97
REGENERATE_OVER = 1.25  # a variant this far over its limit is rewritten shorter; nearer ones are trimmed


def _near_duplicates(texts: Sequence[str]) -> list[int]:
    """Indexes of variants that repeat an earlier one."""
    vectors = encoder().encode([t[:2000] for t in texts])
    repeated = []
    for i in range(1, len(texts)):
        if any(texts[i].strip() == texts[j].strip() or float(vectors[i] @ vectors[j]) >= DUPLICATE_SIMILARITY for j in range(i)):
            repeated.append(i)
    return repeated


def _write_many(prompts: list[list[dict]], brief: Brief, spec, temperature: float) -> list[str]:
    tokens = min(900, int(brief.target_words * 2.2) + 40) if brief.kind != "ad" else 120
    if brief.limit:
        tokens = min(tokens, brief.limit // 4 + 10)  # about four characters a token: near the limit, rarely far over
    return [c.text for c in complete_many(prompts, spec=spec, page="content", max_tokens=tokens, temperature=temperature)]


def generate(
    brief: Brief, brand: Brand, *, spec=None, library: pd.DataFrame | None = None, on_token: Callable[[int, str], None] | None = None
) -> list[Variant]:
    """`brief.variants` variants, each from its own angle; far over-limit ones are regenerated
    shorter once, repeats are rewritten once at a higher temperature, then the kind's rules are
    enforced (a text still over its limit is trimmed on a word boundary)."""
    spec = spec or resolve_spec()
    angles = [ANGLES[i % len(ANGLES)] for i in range(brief.variants)]
    if not spec.writes_piece(brief.piece):  # say so and build the copy at once rather than wait minutes for drafts code replaces
        why = Msg(
            "{backend} does not write this kind of content well, so this copy was built from your brief at once. Choose a local or hosted model "
            "in the sidebar for copy a model writes.",
            backend=spec.label,
        )
        built = [assemble(brief, brand, i) for i in range(len(angles))]
        return [Variant(text, checks_for(text, brief, brand, library=library), a, spec.kind, spec.model, [why], "code") for text, a in zip(built, angles)]
    if brief.kind == "blog":
        texts = [
            write_blog(brief, brand, angle, spec=spec, on_token=(lambda piece, i=i: on_token(i, piece)) if on_token else None) for i, angle in enumerate(angles)
        ]
    else:
        texts = _write_many([content_messages(brief, brand, a) for a in angles], brief, spec, 0.8)
    notes: list[list[Msg]] = [[] for _ in texts]
    if brief.limit:
        shorter = f"Your last draft was too long: stay well under {brief.limit} characters."

        def far_over(i: int, text: str) -> list[str]:
            return [f"{len(clean_text(text))} characters"] if len(clean_text(text)) > REGENERATE_OVER * brief.limit else []

        results = guard_many(
            texts,
            far_over,
            lambda i, text, problems: text,  # still over after the rewrite: finish_text trims it on a word boundary
            repair=lambda indexes, _, __: _write_many([content_messages(brief, brand, angles[i], extra=shorter) for i in indexes], brief, spec, 0.8),
            fall_back_on_error=False,
        )
        for i, result in enumerate(results):
            texts[i] = result.value
            if result.rounds:
                notes[i].append(Msg("regenerated shorter"))
    if brief.kind != "blog" and len(texts) > 1:
        repeated = _near_duplicates([clean_text(t) for t in texts])
        if repeated:
            fresh = [ANGLES[(brief.variants + n) % len(ANGLES)] for n in range(len(repeated))]
            for i, angle, text in zip(repeated, fresh, _write_many([content_messages(brief, brand, a) for a in fresh], brief, spec, 1.0)):
                texts[i], angles[i] = text, angle
                notes[i].append(Msg("rewritten: it repeated another variant"))
    return _grounded(texts, angles, notes, brief, brand, spec, library)


def _grounded(texts: list[str], angles: list[str], notes: list[list[str]], brief: Brief, brand: Brand, spec, library) -> list[Variant]:
    """Each variant checked for invented claims and unfinished sentences; a refused one is written
    again once (told what was wrong), and if it still fails, copy assembled by code takes its place."""

    def problems(i: int, text: str) -> list[str]:
        return grounding_problems(checks_for(finish_text(text, brief, brand)[0], brief, brand))

    def rewrite(indexes: list[int], _texts: list[str], found: list[list[str]]) -> list[str]:
        told = [
            f"Your last draft was not usable: {Joined(p)}. Say only what the brief and facts say; invent no names, handles, numbers or links." for p in found
        ]
        if brief.kind == "blog":
            return [write_blog(brief, brand, angles[i], spec=spec) for i in indexes]
        return _write_many([content_messages(brief, brand, angles[i], extra=extra) for i, extra in zip(indexes, told)], brief, spec, 0.7)

    variants = []
    for i, result in enumerate(guard_many(texts, problems, lambda i, text, found: None, repair=rewrite, fall_back_on_error=False)):
        reasons = [Joined(found) for found in result.rounds]
        if result.source == "fallback":
            final, repairs, source = assemble(brief, brand, i), [], "code"
        else:
            (final, repairs), source = finish_text(result.value, brief, brand), "model"
        if result.source == "repaired":
            notes[i].append(Msg("rewritten: the first draft invented claims or stopped mid-sentence"))
        variants.append(Variant(final, checks_for(final, brief, brand, library=library), angles[i], spec.kind, spec.model, notes[i] + repairs, source, reasons))
    return variants


def outline_for(brief: Brief, brand: Brand, angle: str, *, spec) -> list[str]:
    """Section headings from the model, or a plain outline when it gives none usable."""
    reply = complete(
        [
            {"role": "system", "content": system_prompt(brand)},
            {"role": "user", "content": f"List 4 section headings for a blog post about: {brief.topic}. {angle} One heading per line, nothing else."},
        ],
        spec=spec,
        page="content",
        max_tokens=80,
        temperature=0.7,
    ).text
    headings = [re.sub(r"^\s*(?:[-*#\d.)]+\s*)+", "", line).strip(' *#"') for line in reply.splitlines()]
    headings = [h for h in headings if heading_problem(h) is None][:5]
    if len(headings) >= 3:
        return headings
    title = brief_title(brief)
    return [f"Why {title} matters", "What to look for", "How to get started", "The bottom line"]


_INSTRUCTION = re.compile(r"(?i)\b(?:here (?:are|is)|headings?|sections?|outline|numbered|as follows|blog post|I (?:will|can)|sure)\b")


def heading_problem(heading: str) -> str | None:
    """Why a line is not a heading of the topic (an instruction leaking, a sentence), or None."""
    if not 3 <= len(heading) <= 80 or len(heading.split()) > 10:
        return "not heading-sized"
    if heading.rstrip().endswith((":", ",")) or _INSTRUCTION.search(heading):
        return "reads as an instruction, not a heading"
    return None


def write_blog(brief: Brief, brand: Brand, angle: str, *, spec, on_token: Callable[[str], None] | None = None) -> str:
    """A post written section by section from its outline, so no call outgrows the context window."""
    headings = outline_for(brief, brand, angle, spec=spec)
    per_section = max(30, int(0.85 * brief.target_words) // len(headings))  # with the title and headings, about the length asked for
    parts = [f"# {brief.topic.strip().rstrip('.')}"]
    if on_token:
        on_token(parts[0] + "\n\n")
    for heading in headings:
        task = f"{task_prompt(brief)} Write only the section '{heading}', about {per_section} words, as plain paragraphs without a heading. {angle}"
        pieces = []
        if on_token:
            on_token(f"## {heading}\n\n")
        for piece in stream(
            [{"role": "system", "content": system_prompt(brand)}, {"role": "user", "content": task}],
            spec=spec,
            page="content",
            max_tokens=min(SECTION_TOKENS * 2, int(per_section * 1.8) + 20),
            temperature=0.7,
        ):
            pieces.append(piece)
            if on_token:
                on_token(piece)
        if on_token:
            on_token("\n\n")
        parts.append(f"## {heading}\n\n{complete_sentences(clean_text(''.join(pieces)))}")
    return "\n\n".join(parts)


# --- personalisation ------------------------------------------------------------------------------

_CUSTOMER_ROLES = {
    "name": ("name", "first_name", "customer", "customer_name", "full_name"),
    "segment": ("segment", "tier", "group"),
    "last_purchase": ("last_purchase", "last_product", "purchase", "product"),
}


def personalise(customers: pd.DataFrame, brief: Brief, brand: Brand, *, spec=None, progress: Progress | None = None, chunk: int = 8) -> pd.DataFrame:
    """One personalised piece per customer (name, segment, last purchase), batched, every input
    column kept; a piece that forgets the customer's name gets a greeting with it."""
    name_column = find_column(customers, _CUSTOMER_ROLES["name"])
    if name_column is None:
        raise UserError(Msg("The customer file needs a name column (name, first_name or customer)."))
    segment, purchase = find_column(customers, _CUSTOMER_ROLES["segment"]), find_column(customers, _CUSTOMER_ROLES["last_purchase"])
    spec = spec or resolve_spec()
    texts: list[str] = []
    rows = list(customers.itertuples(index=False))
    position = {c: i for i, c in enumerate(customers.columns)}
    for start in range(0, len(rows), chunk):
        prompts = []
        for row in rows[start : start + chunk]:
            about = [f"Customer: {row[position[name_column]]}"]
            if segment:
                about.append(f"segment: {row[position[segment]]}")
            if purchase:
                about.append(f"last purchase: {row[position[purchase]]}")
            prompts.append(
                content_messages(brief, brand, "Personalise it for this customer: " + ", ".join(str(a) for a in about) + ". Address them by first name.")
            )
        for row, text in zip(rows[start : start + chunk], _write_many(prompts, brief, spec, 0.7)):
            final, _ = finish_text(text, brief, brand)
            first = str(row[position[name_column]]).split(" ")[0]
            if first and first.lower() not in final.lower():
                final = f"Hi {first},\n\n{final}" if brief.kind != "email" else re.sub(r"(\n\n)", rf"\1Hi {first},\n\n", final, count=1)
            texts.append(final)
        if progress:
            progress(len(texts), len(rows))
    out = customers.copy()
    out["personalised"] = texts
    return out
