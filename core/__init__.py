"""Mercury's core: everything the pages do, as plain Python (never imports streamlit)."""
