import pandas as pd
import streamlit as st

from core.exports import to_csv_bytes


def csv_download(frame: pd.DataFrame, file_name: str, label: str, *, key: str) -> None:
    st.download_button(label, to_csv_bytes(frame), file_name=file_name, mime="text/csv", key=key)
