"""The Brand profile form, shared by the pages that write in the brand's voice."""
from __future__ import annotations

import hashlib
import json

import streamlit as st

from core.brand import Brand, brand_from_dict, current_brand, save_brand
from core.errors import MercuryError
from ui.i18n import say, t


def _lines(items: list[str]) -> str:
    return "\n".join(items)


def _saved(key: str, notice: str) -> None:
    """Rerun so the form shows the stored profile (its fields are keyed by it), with the notice."""
    st.session_state[key + "brand_notice"] = notice
    st.rerun()


def brand_form(key: str) -> Brand:
    """Show the stored profile as an editable form; returns the profile in force after any save."""
    brand = current_brand()
    if notice := st.session_state.pop(key + "brand_notice", None):
        st.success(notice)
    upload = st.file_uploader(
        t("Load a BRAND.json"),
        type=["json"],
        key=key + "brand_upload",
        help=t("Keys: name, tone, sign_off, facts (a list), internal_notes, and optionally reply_from, phrases_use, phrases_avoid, examples."),
    )
    if upload is not None and st.button(t("Replace the profile with this file"), key=key + "brand_load"):
        try:
            loaded = brand_from_dict(json.loads(upload.getvalue().decode("utf-8-sig")))
        except (UnicodeDecodeError, json.JSONDecodeError):
            st.error(t("That file is not valid JSON."))
        except MercuryError as error:
            st.error(say(error))
        else:
            loaded.id = brand.id
            save_brand(loaded)
            _saved(key, t("Loaded the profile of {name}.", name=loaded.name))
    # Keyed by the stored profile's content: a save or a loaded file refreshes the fields, an edit in progress stays.
    version = f"{key}brand_{hashlib.sha1(json.dumps(brand.to_json(), sort_keys=True).encode()).hexdigest()[:10]}_"
    with st.form(key + "brand_form"):
        left, right = st.columns(2)
        name = left.text_input(t("Brand name"), value=brand.name, key=version + "name")
        reply_from = right.text_input(t("Replies come from (address)"), value=brand.reply_from, key=version + "reply_from")
        tone = st.text_input(t("Tone of voice"), value=brand.tone, key=version + "tone")
        sign_off = st.text_area(t("Sign-off"), value=brand.sign_off, key=version + "sign_off", height=68)
        left, right = st.columns(2)
        phrases_use = left.text_area(t("Phrases to use (one per line)"), value=_lines(brand.phrases_use), key=version + "phrases_use")
        phrases_avoid = right.text_area(t("Phrases to avoid (one per line)"), value=_lines(brand.phrases_avoid), key=version + "phrases_avoid")
        facts = st.text_area(
            t("Facts the assistant may use (one per line: prices, hours, policies, links)"),
            value=_lines(brand.facts),
            height=220,
            key=version + "facts",
            help=t(
                "Drafts state nothing else: for each email the closest facts are retrieved, and a draft that states a number or link from no fact is replaced."
            ),
        )
        examples = st.text_area(t("Examples of past content (one per line)"), value=_lines(brand.examples), key=version + "examples")
        reply_examples = st.text_area(
            t("The team's own replies, from the mailbox's Sent folder (one per line: delete a line to drop it)"),
            value=_lines(brand.reply_examples),
            key=version + "reply_examples",
            help=t("Drafts written by a model follow the voice of those in the mail's language. The Mailbox tab's Learn our voice fills this in."),
        )
        notes = st.text_area(t("Internal notes (for the team only: never given to the model)"), value=brand.internal_notes, key=version + "notes")
        saved = st.form_submit_button(t("Save brand profile"), type="primary")
    if saved:
        try:
            edited = brand_from_dict(
                {
                    "name": name,
                    "tone": tone,
                    "sign_off": sign_off,
                    "reply_from": reply_from,
                    "phrases_use": phrases_use,
                    "phrases_avoid": phrases_avoid,
                    "facts": facts,
                    "examples": examples,
                    "reply_examples": reply_examples,
                    "internal_notes": notes,
                }
            )
        except MercuryError as error:
            st.error(say(error))
        else:
            edited.id = brand.id
            save_brand(edited)
            _saved(key, t("Saved. New drafts use this profile."))
    st.download_button(
        t("Download BRAND.json"),
        json.dumps(brand.to_json(), ensure_ascii=False, indent=2),
        file_name="brand.json",
        mime="application/json",
        key=key + "brand_download",
    )
    return brand
