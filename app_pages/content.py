import streamlit as st

from core.brand import current_brand
from core.content.brief import KINDS, PLATFORM_NAMES, Brief
from core.content.checks import checks_for, failed_checks
from core.content.library import ab_frame, delete_piece, export_docx, export_markdown, library_frame, save_ab_pair, save_piece
from core.content.writing import generate, personalise
from core.errors import MercuryError
from core.ingest import read_table
from ui.backend import current_spec, require_spec
from ui.brand import brand_form
from ui.download import csv_download

KEY = "content_"
KIND_LABELS = {"blog": "Blog post", "social": "Social post", "email": "Marketing email", "product": "Product description", "ad": "Search ad"}

st.title("Content studio")
st.caption(
    "On-brand blog posts, social posts, marketing emails, product descriptions and search ads, in variants. "
    "Every variant is checked by code: names, handles, numbers, prices and links the brief does not give, unfinished sentences, "
    "the length asked for, platform limits, keywords, readability, banned phrases and similarity to your library."
)


def brief_form(prefix: str, *, variants: bool = True) -> Brief | None:
    left, middle, right = st.columns(3)
    kind = left.selectbox("Content type", KINDS, index=KINDS.index("social"), format_func=KIND_LABELS.get, key=prefix + "kind")
    platform = middle.selectbox("Platform", list(PLATFORM_NAMES), format_func=PLATFORM_NAMES.get, key=prefix + "platform", disabled=kind != "social")
    language = right.text_input("Language (two letters)", value="en", max_chars=2, key=prefix + "language")
    topic = st.text_area("Brief or topic", placeholder="Launch of the Pulse earbuds: 30 hours of battery in a pocket-size case", key=prefix + "topic")
    left, middle, right = st.columns(3)
    audience = left.text_input("Audience", placeholder="commuters and students", key=prefix + "audience")
    goal = middle.text_input("Goal", placeholder="pre-orders", key=prefix + "goal")
    tone = right.text_input("Tone (empty: the brand's)", key=prefix + "tone")
    left, middle, right = st.columns(3)
    keywords = left.text_input("Keywords (comma-separated)", key=prefix + "keywords")
    words = middle.number_input("Target length in words (0: default)", 0, 3000, 0, step=50, key=prefix + "words")
    count = right.slider("Variants", 1, 6, 3, key=prefix + "variants") if variants else 1
    reference = st.text_area("Reference text for BLEU and ROUGE (optional)", key=prefix + "reference", height=80) if variants else ""
    if not topic.strip():
        return None
    try:
        return Brief(kind=kind, topic=topic, platform=platform if kind == "social" else "", audience=audience, goal=goal, keywords=keywords.split(","), tone=tone, language=language, words=int(words), reference=reference, variants=count)
    except MercuryError as error:
        st.error(str(error))
        return None


def show_checks(checks: dict) -> None:
    limit = checks["limit"]
    within = "within limit" if checks["within_limit"] else "over limit"
    lines = [f"{checks['characters']:,} characters{f' of {limit:,}' if isinstance(limit, int) else ''} · {checks['words']:,} words · {within}"]
    if checks["keyword_coverage"] is not None:
        missing = [k for k, c in checks["keywords"].items() if not c]
        lines.append(f"keywords {checks['keyword_coverage']:.0%} covered, density {checks['keyword_density_pct']}%" + (f" · missing: {', '.join(missing)}" if missing else ""))
    if checks["flesch_reading_ease"] is not None:
        lines.append(f"Flesch reading ease {checks['flesch_reading_ease']}")
    if checks["banned_phrases"]:
        lines.append("banned phrases: " + ", ".join(checks["banned_phrases"]))
    if checks["most_similar"]:
        lines.append(f"closest library piece #{checks['most_similar']['id']} (similarity {checks['most_similar']['similarity']:.2f})")
    if "bleu" in checks:
        lines.append(f"BLEU {checks['bleu']} · ROUGE-1 {checks['rouge1']:.2f} · ROUGE-2 {checks['rouge2']:.2f} · ROUGE-L {checks['rougeL']:.2f}")
    if checks["passed"]:
        st.caption("\n\n".join(lines))
    else:
        st.warning("\n\n".join(["**Fails: " + "; ".join(failed_checks(checks)) + ".**", *lines]))


create, personal, library, brand_tab = st.tabs(["Create", "Personalise", "Library", "Brand profile"])

with create:
    if getattr(current_spec(), "kind", "") == "embedded":  # None while the sidebar's backend is unusable
        st.info(
            "The embedded model is a 135M-parameter model that runs anywhere without a key: good for rough first drafts, not for copy "
            "to publish. It often invents names, handles and numbers, and cuts sentences short; Mercury checks every variant and "
            "replaces one that still invents after a rewrite with copy built from your brief. For copy to publish, choose "
            "Local model or OpenAI in the sidebar.", icon=":material/info:",
        )
    brief = brief_form(KEY)
    if st.button("Generate variants", type="primary", key=KEY + "generate", disabled=brief is None):
        live = st.empty()
        streamed: dict[int, str] = {}

        def show(index: int, piece: str) -> None:
            streamed[index] = streamed.get(index, "") + piece
            live.text(streamed[index][-3000:])

        try:
            with st.spinner(f"Writing {brief.variants} variant(s)..."):
                st.session_state[KEY + "result"] = (brief, generate(brief, current_brand(), spec=require_spec(), library=library_frame(), on_token=show))
        except MercuryError as error:
            st.error(str(error))
        live.empty()
    if KEY + "result" in st.session_state:
        shown_brief, variants = st.session_state[KEY + "result"]
        brand = current_brand()
        columns = st.columns(min(3, len(variants)))
        for number, variant in enumerate(variants):
            with columns[number % len(columns)]:
                st.markdown(f"**Variant {number + 1}** · _{variant.angle}_ · " + ("written by the model" if variant.source == "model" else "**written by code from your brief**"))
                if variant.reasons:
                    st.caption(("Replaced: the model's drafts " if variant.source == "code" else "Rewritten: the first draft ") + "; then ".join(variant.reasons) + ".")
                text = st.text_area("Text", value=variant.text, height=260 if shown_brief.kind != "blog" else 480, key=f"{KEY}text_{number}_{hash(variant.text)}", label_visibility="collapsed")
                checks = checks_for(text, shown_brief, brand) if text != variant.text else variant.checks
                show_checks(checks)
                if variant.notes:
                    st.caption("Repairs: " + "; ".join(variant.notes))
                if st.button("Save to library", key=f"{KEY}save_{number}"):
                    piece = save_piece(shown_brief, text, checks=checks, backend=variant.backend, model=variant.model, edited=text != variant.text)
                    st.success(f"Saved as #{piece}.")
        if len(variants) >= 2:
            pair = st.multiselect("A/B pair", list(range(1, len(variants) + 1)), default=[1, 2], max_selections=2, key=KEY + "pair")
            if len(pair) == 2 and st.button("Save as an A/B pair", key=KEY + "save_ab"):
                group = save_ab_pair(shown_brief, variants[pair[0] - 1], variants[pair[1] - 1])
                st.success(f"Saved A/B pair {group}; export it from the Library tab.")

with personal:
    st.write("Merge a CSV of customers (name, segment, last purchase) into one personalised piece each.")
    upload = st.file_uploader("Customers (CSV, TSV or Excel)", type=["csv", "tsv", "xlsx"], key=KEY + "customers")
    personal_brief = brief_form(KEY + "p_", variants=False)
    if upload is not None and personal_brief is not None and st.button("Personalise", type="primary", key=KEY + "personalise"):
        bar = st.progress(0.0, text="Writing...")
        try:
            customers = read_table(upload.getvalue(), upload.name).frame
            result = personalise(customers, personal_brief, current_brand(), spec=require_spec(), progress=lambda done, total: bar.progress(done / total, text=f"Written {done:,} of {total:,}"))
        except MercuryError as error:
            st.error(str(error))
        else:
            st.session_state[KEY + "personalised"] = result
    if KEY + "personalised" in st.session_state:
        result = st.session_state[KEY + "personalised"]
        st.dataframe(result, hide_index=True, width="stretch")
        csv_download(result, "personalised.csv", "Download CSV", key=KEY + "personal_csv")

with library:
    left, right = st.columns([3, 1])
    query = left.text_input("Search the library", key=KEY + "query")
    kind = right.selectbox("Type", [None, *KINDS], format_func=lambda k: "all" if k is None else KIND_LABELS[k], key=KEY + "kind_filter")
    pieces = library_frame(query, kind)
    if pieces.empty:
        st.info("Nothing saved yet: generate variants in the Create tab and save the ones you like." if not query and not kind else "Nothing matches.")
    else:
        st.dataframe(pieces.drop(columns=["checks"]), hide_index=True, width="stretch", column_config={"text": st.column_config.TextColumn(width="large")})
        a, b, c, d = st.columns(4)
        a.download_button("Markdown", export_markdown(pieces), file_name="mercury-content.md", mime="text/markdown", key=KEY + "md")
        b.download_button("DOCX", export_docx(pieces), file_name="mercury-content.docx", mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document", key=KEY + "docx")
        with c:
            csv_download(pieces, "mercury-content.csv", "CSV", key=KEY + "csv")
        pairs = ab_frame()
        if not pairs.empty:
            with d:
                csv_download(pairs, "mercury-ab-pairs.csv", "A/B pairs (CSV)", key=KEY + "ab_csv")
        doomed = st.selectbox("Delete a piece", [None, *pieces["id"].tolist()], format_func=lambda i: "—" if i is None else f"#{i}", key=KEY + "delete_pick")
        if doomed is not None and st.button("Delete", key=KEY + "delete"):
            delete_piece(doomed)
            st.rerun()

with brand_tab:
    brand_form(KEY)
