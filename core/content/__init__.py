"""Marketing content: briefs in, variants out in the brand's voice, each checked by code.

- `brief`: the brief, the prompt, and the limits code enforces whatever the model writes;
- `checks`: keywords, readability, banned phrases, similarity, BLEU and ROUGE;
- `writing`: variants, blog posts and personalised pieces;
- `library`: saved pieces, A/B pairs and exports.
"""
