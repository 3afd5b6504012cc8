from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from core.charts import driver_bars, rating_bars, stacked_labels, theme_bars
from core.classifiers import choice_for, classifier_for
from core.columns import ROLES, propose_roles
from core.errors import MercuryError
from core.exports import to_csv_bytes, to_xlsx_bytes
from core.i18n import N_
from core.ingest import combine, read_table
from core.mail.queue import add_review
from core.sentiment.alerts import ALERT_KINDS, MIN_REVIEWS, PERIOD_NAMES, add_rule, delete_rule, describe_rule, rules_for
from core.sentiment.calibration import fit_dataset, undo_calibration
from core.sentiment.datasets import create_dataset, delete_dataset, describe_dataset, export_frame, list_datasets, rename_dataset
from core.sentiment.insights import FREQUENCIES, dashboard, filter_choices, granularity_for, reviews_behind
from ui.backend import current_spec
from ui.i18n import current_language, labels, num, say, signed, t
from ui.jobs import follow_job, on_worker
from ui.pickers import pick_classifier, pick_dataset, pick_period
from ui.scoring import follow_scoring, start_scoring

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "reviews.csv"
KEY = "sentiment_"
NONE = "\x00none"  # the "(none)" choice of a column role: no column name can be it
SURE_MARKS = {"sure": (":green[{}]", N_("sure")), "likely": (":orange[{}]", N_("likely: check")), "guess": (":red[{}]", N_("a guess: check"))}
LEGEND = {label: t(label) for label in ("negative", "neutral", "positive")}
ROLE_LABELS = {"text": N_("Text"), "date": N_("Date"), "product": N_("Product"), "channel": N_("Channel"), "rating": N_("Rating"), "id": N_("Id")}

st.title(t("Sentiment"))
st.caption(t("Upload reviews, score every one, and see what changed and why. Scores are saved as they are computed."))


def fit_message(result: dict) -> tuple[str, str]:
    """What the page says about a fit to the file's own ratings: (kind of box, sentence)."""
    before, after = result["before"], result["after"]
    figures = t(
        "on {rows} held-out clearly rated reviews, macro F1 {f1_before} before and {f1_after} after, balanced accuracy {accuracy_before} "
        "and {accuracy_after}",
        rows=result["test_rows"],
        f1_before=num(before["macro_f1"], 3),
        f1_after=num(after["macro_f1"], 3),
        accuracy_before=num(before["balanced_accuracy"], 3),
        accuracy_after=num(after["balanced_accuracy"], 3),
    )
    if result["kept"]:
        return "success", t("Fitted and applied: {figures}. Undo it here at any time.", figures=figures)
    return "warning", t("Not applied, because it did not help: {figures}.", figures=figures)


def _fitted(view) -> None:
    st.session_state[KEY + "fit_message"] = fit_message(view.result)


# --- bring in data -----------------------------------------------------------------------------

datasets = list_datasets()
with st.expander(t("Add reviews"), expanded=datasets.empty):
    uploads = st.file_uploader(
        t("Files of reviews (CSV, TSV, Excel, JSON lines)"),
        type=["csv", "tsv", "txt", "xlsx", "jsonl", "json"],
        accept_multiple_files=True,
        key=KEY + "upload",
    )
    use_sample = st.button(t("Try the sample (902 phone-accessory reviews)"), key=KEY + "sample")
    if use_sample:
        st.session_state[KEY + "use_sample"] = True
    tables, problems = [], []
    for upload in uploads or []:
        try:
            tables.append(read_table(upload.getvalue(), upload.name))
        except MercuryError as error:
            problems.append(say(error))
    if not tables and st.session_state.get(KEY + "use_sample"):
        tables = [read_table(SAMPLE)]
    for problem in problems:
        st.error(problem)
    if tables:
        table = combine(tables)
        st.write(
            t("**{source}**: {rows} rows read, {skipped} skipped", source=table.source, rows=len(table.frame), skipped=table.skipped)
            + (f" ({table.skip_summary(current_language())})" if table.skipped else "")
            + ". "
            + t("Encoding {encoding}", encoding=table.encoding)
            + (", " + t("delimiter {delimiter}", delimiter=repr(table.delimiter)) if table.delimiter else "")
            + "."
        )
        for note in filter(None, (table.header_note(), table.mended_note())):
            st.info(say(note))
        st.dataframe(table.frame.head(8), hide_index=True, width="stretch")
        proposed = propose_roles(table.frame)
        choices = [NONE, *table.frame.columns]
        cols = st.columns(len(ROLES))
        mapping = {}
        for col, role in zip(cols, ROLES):
            guess = proposed.roles[role]
            picked = col.selectbox(
                t(ROLE_LABELS[role]),
                choices,
                index=choices.index(guess.column) if guess.column in choices else 0,
                key=f"{KEY}map_{role}",
                format_func=labels({NONE: t("(none)"), **{c: c for c in table.frame.columns}}),
                help=say(guess.reason) or None,
            )
            mapping[role] = None if picked == NONE else picked
            if guess.column and picked == guess.column and guess.confidence in SURE_MARKS:
                mark, word = SURE_MARKS[guess.confidence]
                col.caption(mark.format(t(word)))
        text_guess = proposed.roles["text"]
        if text_guess.confidence == "guess" and mapping["text"] == text_guess.column:
            st.warning(
                t(
                    "Mercury cannot tell which column holds the review text ({reason}): candidates {candidates}. Pick it above.",
                    reason=say(text_guess.reason),
                    candidates=", ".join(text_guess.candidates),
                )
            )
        name = st.text_input(t("Dataset name"), value=Path(table.source).stem, key=KEY + "name")
        classifier_choice = pick_classifier(KEY, current_spec())
        if st.button(t("Analyse"), type="primary", key=KEY + "analyse"):
            if not mapping["text"]:
                st.error(t("Pick the column that holds the review text."))
                st.stop()
            # the same file, columns and classifier again resume the dataset already stored
            classifier = classifier_for(classifier_choice, current_spec())
            dataset_id = create_dataset(table, mapping, name, scored_by=classifier.model_id)
            st.session_state[KEY + "dataset"] = dataset_id
            st.session_state[KEY + "use_sample"] = False
            start_scoring(dataset_id, classifier_choice)
            st.rerun()

running = follow_scoring()

# --- the chosen dataset ------------------------------------------------------------------------

dataset = pick_dataset(KEY, default=st.session_state.get(KEY + "dataset"))
if dataset is None:
    st.info(t("No reviews yet. Upload a file above, or try the sample."))
    st.stop()
dataset_id = dataset.id

with st.expander(t("Manage this dataset")):
    new_name = st.text_input(t("Rename"), value=dataset.name, key=KEY + "rename")
    left, right = st.columns(2)
    if left.button(t("Save name"), key=KEY + "save_name"):
        rename_dataset(dataset_id, new_name)
        st.rerun()
    if right.button(t("Delete dataset"), key=KEY + "delete"):
        delete_dataset(dataset_id)
        st.session_state.pop(KEY + "dataset", None)
        st.rerun()
    st.caption(say(describe_dataset(dataset)))

controls = st.columns([2.2, 1.8, 2, 2, 2])
start, end = pick_period(dataset_id, KEY, controls[0])
auto = granularity_for(start, end)
if start is None:  # undated reviews have no trend to bucket
    every = auto
else:
    picked_every = controls[1].selectbox(
        t("Trend by"),
        ["auto", *FREQUENCIES],
        format_func=labels({"auto": t("auto ({every})", every=t(auto)), **{e: e for e in FREQUENCIES}}),
        key=KEY + "every",
    )
    every = auto if picked_every == "auto" else picked_every
choices = filter_choices(dataset_id, start=start, end=end)
chosen_products = controls[2].multiselect(t("Products"), choices["product"], placeholder=t("Choose options"), key=KEY + "products")
chosen_channels = controls[3].multiselect(t("Channels"), choices["channel"], placeholder=t("Choose options"), key=KEY + "channels")
chosen_languages = controls[4].multiselect(
    t("Languages"), list(choices["language"]), format_func=choices["language"].get, placeholder=t("Choose options"), key=KEY + "languages"
)
board = dashboard(dataset_id, start=start, end=end, every=every, products=chosen_products, channels=chosen_channels, languages=chosen_languages)

if board.unscored:
    st.warning(t("{count} reviews are not fully analysed yet (an interrupted run, or stored before Mercury read languages and themes).", count=board.unscored))
    if not running and st.button(t("Resume scoring"), key=KEY + "resume"):
        start_scoring(dataset_id, choice_for(dataset.classifier))
        st.rerun()

if board.warning:
    st.error(say(board.warning), icon=":material/warning:")
k = board.kpis
metrics = st.columns(4)
metrics[0].metric(t("Reviews"), num(k.volume), delta=None if k.delta("volume") is None else ("+" if k.delta("volume") >= 0 else "") + num(k.delta("volume")))
metrics[1].metric(
    t("Positive"),
    f"{num(k.positive_share, 0)}%",
    delta=None if k.delta("positive_share") is None else t("{change} pts", change=signed(k.delta("positive_share"))),
)
metrics[2].metric(
    t("Negative"),
    f"{num(k.negative_share, 0)}%",
    delta=None if k.delta("negative_share") is None else t("{change} pts", change=signed(k.delta("negative_share"))),
    delta_color="inverse",
)
metrics[3].metric(t("Net sentiment"), signed(k.net_sentiment, 0), delta=None if k.delta("net_sentiment") is None else signed(k.delta("net_sentiment")))
if k.basis:
    st.caption(t("Changes: {basis}.", basis=say(k.basis)))
if board.language_notice:
    st.warning(say(board.language_notice))

if board.reviews.empty:
    st.info(t("No reviews in this period and filter."))
    st.stop()

selection: dict = {}


def chart(figure, key: str, dimension: str) -> None:
    event = st.plotly_chart(figure, width="stretch", on_select="rerun", selection_mode="points", key=KEY + key)
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if points:
        custom = points[0].get("customdata") or []
        selection.update({"dimension": dimension, "value": custom[0] if custom else points[0].get("x"), "label": custom[1] if len(custom) > 1 else None})


tab_trend, tab_where, tab_why, tab_alerts, tab_ratings = st.tabs([t("Trend"), t("Products, channels, languages"), t("Why"), t("Alerts"), t("Ratings")])
with tab_trend:
    if board.over_time.empty:
        st.info(t("This dataset has no dates, so there is no trend to show."))
    else:
        chart(stacked_labels(board.over_time, "period", title=t("Reviews per {every}", every=t(every)), names=LEGEND), "trend", "period")
        st.plotly_chart(
            px.line(
                board.over_time,
                x="period",
                y="net_sentiment",
                markers=True,
                title=t("Net sentiment (positive % minus negative %)"),
                labels={"period": t("period"), "net_sentiment": t("net sentiment")},
            ),
            width="stretch",
            key=KEY + "net",
        )
with tab_where:
    left, right = st.columns(2)
    with left:
        if board.by_product.empty:
            st.info(t("No product column was mapped."))
        else:
            chart(stacked_labels(board.by_product.head(15), "product", title=t("By product"), horizontal=True, names=LEGEND), "products_chart", "product")
    with right:
        if board.by_channel.empty:
            st.info(t("No channel or source column was mapped."))
        else:
            chart(stacked_labels(board.by_channel.head(15), "channel", title=t("By channel"), horizontal=True, names=LEGEND), "channels_chart", "channel")
    if len(board.by_language) > 1:
        chart(stacked_labels(board.by_language.head(15), "name", title=t("By language"), horizontal=True, names=LEGEND), "languages_chart", "language_name")
    st.dataframe(
        board.by_language.drop(columns=["mean_score"]),
        hide_index=True,
        width="stretch",
        column_config={
            "language": t("language"),
            "name": t("language name"),
            "measured": st.column_config.CheckboxColumn(t("accuracy measured")),
            "volume": t("reviews"),
            "net_sentiment": st.column_config.NumberColumn(t("net sentiment"), format="%+.0f"),
        },
    )
with tab_why:
    left, right = st.columns(2)
    for column, label in ((left, "negative"), (right, "positive")):
        with column:
            table = board.drivers[label]
            if table.empty:
                st.info(
                    t("Too few negative reviews here to say what drives them.")
                    if label == "negative"
                    else t("Too few positive reviews here to say what drives them.")
                )
            else:
                title = t("What drives negative reviews") if label == "negative" else t("What drives positive reviews")
                chart(driver_bars(table, label, title=title, axis=t("strength (z-score)")), f"drivers_{label}", "term")
    if not board.themes.empty:
        chart(
            theme_bars(board.themes, title=t("Themes: mean sentiment (-1 to 1)"), labels={"theme": t("theme"), "mean_score": t("mean score")}),
            "themes_chart",
            "theme",
        )
with tab_alerts:
    with st.form(KEY + "alert_form", clear_on_submit=True):
        cols = st.columns([2, 2, 1, 1, 1, 1])
        rule_name = cols[0].text_input(t("Name"), placeholder=t("named for what it watches"), key=KEY + "alert_name")
        kind = cols[1].selectbox(t("Fires when"), list(ALERT_KINDS), format_func=labels(ALERT_KINDS), key=KEY + "alert_kind")
        threshold = cols[2].number_input(t("Threshold (% or points)"), min_value=0.0, max_value=100.0, value=40.0, step=5.0, key=KEY + "alert_threshold")
        period_code = cols[3].selectbox(t("Per"), list(PERIOD_NAMES), index=1, format_func=labels(PERIOD_NAMES), key=KEY + "alert_period")
        scope = cols[4].selectbox(
            t("Scope"),
            ["", "product", "channel"],
            format_func=labels({"": t("all reviews"), "product": "product", "channel": "channel"}),
            key=KEY + "alert_scope",
        )
        min_reviews = cols[5].number_input(
            t("Min reviews"), min_value=1, value=MIN_REVIEWS, step=5, key=KEY + "alert_min", help=t("A period with fewer reviews cannot fire.")
        )
        if st.form_submit_button(t("Add rule")):
            add_rule(dataset_id, name=rule_name, kind=kind, threshold=threshold, period=period_code, scope=scope, min_reviews=min_reviews)
            st.rerun()
    for rule in rules_for(dataset_id):
        left, right = st.columns([6, 1])
        left.write(say(describe_rule(rule)))
        if right.button(t("Remove"), key=f"{KEY}remove_rule_{rule.id}"):
            delete_rule(rule.id)
            st.rerun()
    if board.alerts.empty:
        st.success(t("No rule has fired on this dataset.") if rules_for(dataset_id) else t("No rules yet: add one above."))
    else:
        st.error(
            t("{count} alerts fired; the latest in the period starting {start}.", count=len(board.alerts), start=str(board.alerts.iloc[0]["period_start"]))
        )
        st.dataframe(board.alerts, hide_index=True, width="stretch")
with tab_ratings:
    if board.rating is None:
        st.info(t("No rating column was mapped, so there is nothing to compare with."))
    else:
        rating = board.rating
        agree = st.columns(2)
        agree[0].metric(
            t("Sentiment agrees with the stars"),
            "—" if rating["agreement"] is None else f"{num(100 * rating['agreement'], 0)}%",
            help=t("Over reviews rated clearly negative (1-2 of 5) or clearly positive (4-5)."),
        )
        agree[1].metric(
            t("Balanced agreement"),
            "—" if rating["balanced_agreement"] is None else f"{num(100 * rating['balanced_agreement'], 0)}%",
            help=t("The mean of the agreement on clearly negative and on clearly positive reviews: a file of mostly 5-star reviews cannot inflate it."),
        )
        st.plotly_chart(
            rating_bars(rating["by_rating"], title=t("Mean sentiment score by star rating"), labels={"rating": t("rating"), "mean_score": t("mean score")}),
            width="stretch",
            key=KEY + "ratings_chart",
        )
        if dataset.calibration:
            st.info(t("The classifier is fitted to this file's own ratings (see the figures above)."))
            if st.button(t("Undo the fit"), key=KEY + "undo_calibration"):
                st.session_state[KEY + "fit_message"] = (
                    "info",
                    t("Undone: {count} reviews have the classifier's own scores again.", count=undo_calibration(dataset_id)),
                )
                st.rerun()
        elif st.button(
            t("Fit the classifier to my rated reviews"),
            key=KEY + "calibrate",
            help=t("Refits how scores map to positive and negative on half of the clearly rated reviews; kept only if macro F1 on the other half improves."),
        ):
            if not on_worker("calibrate", KEY + "fit_", {"dataset_id": dataset_id}):
                try:
                    st.session_state[KEY + "fit_message"] = fit_message(fit_dataset(dataset_id))
                except MercuryError as error:
                    st.error(say(error))
                else:
                    st.rerun()
        follow_job("calibrate", KEY + "fit_", N_("Fitting on the worker: {said}. You may leave this page."), _fitted)
        if KEY + "fit_message" in st.session_state:
            kind, message = st.session_state[KEY + "fit_message"]
            getattr(st, kind)(message)

# --- the reviews behind a selection ------------------------------------------------------------

st.subheader(t("Reviews"))
shown = board.reviews
if selection:
    dimension, value = selection["dimension"], selection["value"]
    shown = reviews_behind(shown, dimension, value, label=selection.get("label"), every=every)
    behind = f"{t(dimension)} {value}" + (f", {t(selection['label'])}" if selection.get("label") else "")
    st.caption(t("Showing the {count} reviews behind the selection: {what}. Click elsewhere on the chart to clear.", count=len(shown), what=behind))
else:
    label_filter = st.segmented_control(
        t("Show"),
        ["negative", "neutral", "positive"],
        format_func=labels({s: s for s in ("negative", "neutral", "positive")}),
        selection_mode="multi",
        key=KEY + "label_filter",
    )
    if label_filter:
        shown = shown[shown["sentiment"].isin(label_filter)]
    st.caption(t("Click any bar above to see the reviews behind it."))
listed = shown[["date", "product", "channel", "rating", "sentiment", "score", "confidence", "themes", "text"]].sort_values("score")
listed = listed.fillna({"product": "", "channel": "", "themes": ""})  # an empty cell, not "None"
picked = st.dataframe(
    listed,
    hide_index=True,
    width="stretch",
    on_select="rerun",
    selection_mode="single-row",
    key=KEY + "reviews",
    column_config={
        "text": st.column_config.TextColumn(t("review"), width="large"),
        "date": st.column_config.DatetimeColumn(t("date"), format="YYYY-MM-DD"),
        "product": t("product"),
        "channel": t("channel"),
        "rating": t("rating"),
        "sentiment": t("sentiment"),
        "score": t("score"),
        "confidence": t("confidence"),
        "themes": t("themes"),
    },
)
if picked and picked.selection.rows:
    review = listed.iloc[picked.selection.rows[0]]
    if st.button(
        t("Draft a reply to this review"),
        key=KEY + "reply",
        help=t("Adds the review to the Email replies queue, where it is drafted from the Brand profile and waits for approval."),
    ):
        st.session_state["email_selected"] = add_review(
            review["text"], product=review["product"] if pd.notna(review["product"]) else "", source=f"review: {dataset.name}"
        )
        st.switch_page("app_pages/email.py")
else:
    st.caption(t("Select a review to draft a reply to it on the Email replies page."))

# The files are built when a button is clicked, not on every rerun: 100,000 reviews take seconds to write.
left, right = st.columns(2)
left.download_button(
    t("Download CSV"), lambda: to_csv_bytes(export_frame(dataset_id)), file_name=f"{dataset.name}-sentiment.csv", mime="text/csv", key=KEY + "csv"
)
right.download_button(
    t("Download Excel"),
    lambda: to_xlsx_bytes({"reviews": export_frame(dataset_id)}),
    file_name=f"{dataset.name}-sentiment.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    key=KEY + "xlsx",
)
