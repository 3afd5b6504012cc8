"""Review sentiment: a file of reviews in, every row classified and stored, and what the scores say.

- `datasets`: store a file's rows, score them (resumably, with a cache), export them;
- `insights`: the dashboard's figures: KPIs, over time, by product and channel, drivers, themes;
- `alerts`: rules that fire when the negative share is high or rising;
- `calibration`: refit the score to a file's own star ratings.

The classifiers themselves live in core/models/sentiment.py.
"""
