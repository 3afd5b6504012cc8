"""Executive reports on a sentiment dataset: figures computed by code, a summary written by the
active model and checked number by number (core/grounding.py), and four formats.

- `build`: the figures, the guarded summary, recommendations and notable reviews;
- `render`: PDF, DOCX, HTML and Excel, with charts drawn offline;
- `store`: saved definitions and the history of runs.
"""
