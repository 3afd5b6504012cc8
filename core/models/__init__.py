"""Models Mercury runs in its own process (each created once: core.shared). Nothing in this package
imports a feature module (sentiment, mail, content, reports, lab) or the LLM layer; they import from here.

- `encoders`: the text encoder every feature embeds with, and mean pooling.
- `sentiment`: sentiment classifiers with one `classify(texts) -> [Scored]` interface.
- `intents`: the email intent classifier, shipped trained.
"""
