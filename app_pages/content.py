import streamlit as st

from core.brand import current_brand
from core.content.brief import KINDS, PLATFORM_NAMES, Brief
from core.content.checks import checks_for, failed_checks
from core.content.library import ab_frame, delete_piece, export_docx, export_markdown, library_frame, save_ab_pair, save_piece
from core.content.writing import generate, personalise
from core.errors import MercuryError
from core.i18n import N_
from core.ingest import read_table
from ui.backend import current_spec, require_spec
from ui.brand import brand_form
from ui.download import csv_download
from ui.i18n import labels, num, pct, say, t

KEY = "content_"
KIND_LABELS = {
    "blog": N_("Blog post"),
    "social": N_("Social post"),
    "email": N_("Marketing email"),
    "product": N_("Product description"),
    "ad": N_("Search ad"),
}

st.title(t("Content studio"))
st.caption(
    t(
        "On-brand blog posts, social posts, marketing emails, product descriptions and search ads, in variants. "
        "Every variant is checked by code: names, handles, numbers, prices and links the brief does not give, unfinished sentences, "
        "the length asked for, platform limits, keywords, readability, banned phrases and similarity to your library."
    )
)


def brief_form(prefix: str, *, variants: bool = True) -> Brief | None:
    left, middle, right = st.columns(3)
    kind = left.selectbox(t("Content type"), KINDS, index=KINDS.index("social"), format_func=labels(KIND_LABELS), key=prefix + "kind")
    platform = middle.selectbox(t("Platform"), list(PLATFORM_NAMES), format_func=PLATFORM_NAMES.get, key=prefix + "platform", disabled=kind != "social")
    language = right.text_input(t("Language (two letters)"), value="en", max_chars=2, key=prefix + "language")
    topic = st.text_area(t("Brief or topic"), placeholder=t("Launch of the Pulse earbuds: 30 hours of battery in a pocket-size case"), key=prefix + "topic")
    left, middle, right = st.columns(3)
    audience = left.text_input(t("Audience"), placeholder=t("commuters and students"), key=prefix + "audience")
    goal = middle.text_input(t("Goal"), placeholder=t("pre-orders"), key=prefix + "goal")
    tone = right.text_input(t("Tone (empty: the brand's)"), key=prefix + "tone")
    left, middle, right = st.columns(3)
    keywords = left.text_input(t("Keywords (comma-separated)"), key=prefix + "keywords")
    words = middle.number_input(t("Target length in words (0: default)"), 0, 3000, 0, step=50, key=prefix + "words")
    count = right.slider(t("Variants"), 1, 6, 3, key=prefix + "variants") if variants else 1
    reference = st.text_area(t("Reference text for BLEU and ROUGE (optional)"), key=prefix + "reference", height=80) if variants else ""
    if not topic.strip():
        return None
    try:
        return Brief(
            kind=kind,
            topic=topic,
            platform=platform if kind == "social" else "",
            audience=audience,
            goal=goal,
            keywords=keywords.split(","),
            tone=tone,
            language=language,
            words=int(words),
            reference=reference,
            variants=count,
        )
    except MercuryError as error:
        st.error(say(error))
        return None


def show_checks(checks: dict) -> None:
    limit = checks["limit"]
    within = t("within limit") if checks["within_limit"] else t("over limit")
    size = (
        t("{count} characters of {limit}", count=checks["characters"], limit=limit)
        if isinstance(limit, int)
        else t("{count} characters", count=checks["characters"])
    )
    lines = [f"{size} · {t('{count} words', count=checks['words'])} · {within}"]
    if checks["keyword_coverage"] is not None:
        missing = [k for k, c in checks["keywords"].items() if not c]
        lines.append(
            t("keywords {coverage} covered, density {density}%", coverage=pct(checks["keyword_coverage"]), density=checks["keyword_density_pct"])
            + (" · " + t("missing: {keywords}", keywords=", ".join(missing)) if missing else "")
        )
    if checks["flesch_reading_ease"] is not None:
        lines.append(t("Flesch reading ease {score}", score=checks["flesch_reading_ease"]))
    if checks["banned_phrases"]:
        lines.append(t("banned phrases: {phrases}", phrases=", ".join(checks["banned_phrases"])))
    if checks["most_similar"]:
        lines.append(
            t(
                "closest library piece #{id} (similarity {similarity})",
                id=str(checks["most_similar"]["id"]),
                similarity=num(checks["most_similar"]["similarity"], 2),
            )
        )
    if "bleu" in checks:
        lines.append(f"BLEU {checks['bleu']} · ROUGE-1 {checks['rouge1']:.2f} · ROUGE-2 {checks['rouge2']:.2f} · ROUGE-L {checks['rougeL']:.2f}")
    if checks["passed"]:
        st.caption("\n\n".join(lines))
    else:
        st.warning("\n\n".join(["**" + t("Fails: {problems}.", problems="; ".join(say(p) for p in failed_checks(checks))) + "**", *lines]))


create, personal, library, brand_tab = st.tabs([t("Create"), t("Personalise"), t("Library"), t("Brand profile")])

with create:
    if getattr(current_spec(), "kind", "") == "embedded":  # None while the sidebar's backend is unusable
        st.info(
            t(
                "The embedded model is a 135M-parameter model that runs anywhere without a key: good for rough first drafts, not for copy "
                "to publish. It often invents names, handles and numbers, and cuts sentences short; Mercury checks every variant and "
                "replaces one that still invents after a rewrite with copy built from your brief. It writes X posts and search ads only: "
                "blog posts, emails, product descriptions and longer social posts are built from your brief at once. For copy to publish, "
                "choose Local model or OpenAI in the sidebar."
            ),
            icon=":material/info:",
        )
    brief = brief_form(KEY)
    if st.button(t("Generate variants"), type="primary", key=KEY + "generate", disabled=brief is None):
        live = st.empty()
        streamed: dict[int, str] = {}

        def show(index: int, piece: str) -> None:
            streamed[index] = streamed.get(index, "") + piece
            live.text(streamed[index][-3000:])

        try:
            with st.spinner(t("Writing {count} variant(s)...", count=brief.variants)):
                st.session_state[KEY + "result"] = (brief, generate(brief, current_brand(), spec=require_spec(), library=library_frame(), on_token=show))
        except MercuryError as error:
            st.error(say(error))
        live.empty()
    if KEY + "result" in st.session_state:
        shown_brief, variants = st.session_state[KEY + "result"]
        brand = current_brand()
        columns = st.columns(min(3, len(variants)))
        for number, variant in enumerate(variants):
            with columns[number % len(columns)]:
                written = t("written by the model") if variant.source == "model" else "**" + t("written by code from your brief") + "**"
                st.markdown(t("**Variant {number}**", number=number + 1) + f" · _{t(variant.angle)}_ · {written}")
                if variant.reasons:
                    reasons = "; ".join(say(r) for r in variant.reasons)
                    st.caption(
                        t("Replaced: the model's drafts {reasons}.", reasons=reasons)
                        if variant.source == "code"
                        else t("Rewritten: the first draft {reasons}.", reasons=reasons)
                    )
                text = st.text_area(
                    t("Text"),
                    value=variant.text,
                    height=260 if shown_brief.kind != "blog" else 480,
                    key=f"{KEY}text_{number}_{hash(variant.text)}",
                    label_visibility="collapsed",
                )
                checks = checks_for(text, shown_brief, brand) if text != variant.text else variant.checks
                show_checks(checks)
                if variant.notes:
                    notes = "; ".join(say(n) for n in variant.notes)
                    st.caption(t("Repairs: {notes}", notes=notes) if variant.source == "model" else notes)
                if st.button(t("Save to library"), key=f"{KEY}save_{number}"):
                    piece = save_piece(shown_brief, text, checks=checks, backend=variant.backend, model=variant.model, edited=text != variant.text)
                    st.success(t("Saved as #{id}.", id=str(piece)))
        if len(variants) >= 2:
            pair = st.multiselect(
                t("A/B pair"), list(range(1, len(variants) + 1)), default=[1, 2], max_selections=2, placeholder=t("Choose options"), key=KEY + "pair"
            )
            if len(pair) == 2 and st.button(t("Save as an A/B pair"), key=KEY + "save_ab"):
                group = save_ab_pair(shown_brief, variants[pair[0] - 1], variants[pair[1] - 1])
                st.success(t("Saved A/B pair {group}; export it from the Library tab.", group=str(group)))

with personal:
    st.write(t("Merge a CSV of customers (name, segment, last purchase) into one personalised piece each."))
    upload = st.file_uploader(t("Customers (CSV, TSV or Excel)"), type=["csv", "tsv", "xlsx"], key=KEY + "customers")
    personal_brief = brief_form(KEY + "p_", variants=False)
    if upload is not None and personal_brief is not None and st.button(t("Personalise"), type="primary", key=KEY + "personalise"):
        bar = st.progress(0.0, text=t("Writing..."))
        try:
            customers = read_table(upload.getvalue(), upload.name).frame
            result = personalise(
                customers,
                personal_brief,
                current_brand(),
                spec=require_spec(),
                progress=lambda done, total: bar.progress(done / total, text=t("Written {done} of {total}", done=done, total=total)),
            )
        except MercuryError as error:
            st.error(say(error))
        else:
            st.session_state[KEY + "personalised"] = result
    if KEY + "personalised" in st.session_state:
        result = st.session_state[KEY + "personalised"]
        st.dataframe(result, hide_index=True, width="stretch")
        csv_download(result, "personalised.csv", t("Download CSV"), key=KEY + "personal_csv")

with library:
    left, right = st.columns([3, 1])
    query = left.text_input(t("Search the library"), key=KEY + "query")
    kind = right.selectbox(t("Type"), [None, *KINDS], format_func=labels({None: t("all"), **KIND_LABELS}), key=KEY + "kind_filter")
    pieces = library_frame(query, kind)
    if pieces.empty:
        st.info(t("Nothing saved yet: generate variants in the Create tab and save the ones you like.") if not query and not kind else t("Nothing matches."))
    else:
        st.dataframe(pieces.drop(columns=["checks"]), hide_index=True, width="stretch", column_config={"text": st.column_config.TextColumn(width="large")})
        a, b, c, d = st.columns(4)
        a.download_button("Markdown", export_markdown(pieces), file_name="mercury-content.md", mime="text/markdown", key=KEY + "md")
        b.download_button(
            "DOCX",
            export_docx(pieces),
            file_name="mercury-content.docx",
            mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            key=KEY + "docx",
        )
        with c:
            csv_download(pieces, "mercury-content.csv", "CSV", key=KEY + "csv")
        pairs = ab_frame()
        if not pairs.empty:
            with d:
                csv_download(pairs, "mercury-ab-pairs.csv", t("A/B pairs (CSV)"), key=KEY + "ab_csv")
        doomed = st.selectbox(t("Delete a piece"), [None, *pieces["id"].tolist()], format_func=lambda i: "—" if i is None else f"#{i}", key=KEY + "delete_pick")
        if doomed is not None and st.button(t("Delete"), key=KEY + "delete"):
            delete_piece(doomed)
            st.rerun()

with brand_tab:
    brand_form(KEY)
