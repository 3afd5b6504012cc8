"""Plotly figures the pages share. Colours say the same thing everywhere: red negative, grey neutral, green positive."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

SENTIMENT_COLOURS = {"negative": "#d9534f", "neutral": "#b0b3bb", "positive": "#2e9e6b"}


def stacked_labels(table: pd.DataFrame, x: str, *, title: str, horizontal: bool = False, names: dict[str, str] | None = None) -> go.Figure:
    """Reviews per label for each category, stacked; each bar carries its category and label for
    drill-down; `names` are the labels as the legend shows them (the reader's language)."""
    figure = go.Figure()
    for label in ("negative", "neutral", "positive"):
        values = table[label] if label in table else [0] * len(table)
        custom = [[category, label] for category in table[x]]
        name = (names or {}).get(label, label)
        if horizontal:
            figure.add_bar(y=table[x].astype(str), x=values, name=name, orientation="h", marker_color=SENTIMENT_COLOURS[label], customdata=custom)
        else:
            figure.add_bar(x=table[x], y=values, name=name, marker_color=SENTIMENT_COLOURS[label], customdata=custom)
    figure.update_layout(barmode="stack", title=title, legend_title_text="", margin=dict(t=50, b=10, l=10, r=10), height=360)
    return figure


def theme_bars(themes: pd.DataFrame, *, title: str = "Themes: mean sentiment (-1 to 1)", labels: dict[str, str] | None = None) -> go.Figure:
    figure = px.bar(
        themes, x="theme", y="mean_score", color="mean_score", color_continuous_scale=["#d9534f", "#eeeeee", "#2e9e6b"],
        range_color=[-1, 1], hover_data=["volume", "negative_share", "positive_share"], custom_data=["theme"], title=title, labels=labels or {},
    )
    figure.update_layout(margin=dict(t=50, b=10, l=10, r=10), height=360, coloraxis_showscale=False)
    return figure


def driver_bars(table: pd.DataFrame, label: str, *, title: str = "", axis: str = "strength (z-score)") -> go.Figure:
    shown = table.head(12).iloc[::-1]
    figure = px.bar(shown, x=shown["z"].abs(), y="term", orientation="h", title=title or f"What drives {label} reviews", custom_data=["term"])
    figure.update_traces(marker_color=SENTIMENT_COLOURS[label])
    figure.update_layout(margin=dict(t=50, b=10, l=10, r=10), height=360, xaxis_title=axis, yaxis_title="")
    return figure


def rating_bars(by_rating: pd.DataFrame, *, title: str = "Mean sentiment score by star rating", labels: dict[str, str] | None = None) -> go.Figure:
    figure = px.bar(by_rating, x="rating", y="mean_score", hover_data=["volume", "negative_share"], title=title, labels=labels or {})
    figure.update_layout(margin=dict(t=50, b=10, l=10, r=10), height=320)
    return figure
