"""Customer email: read mail in any common shape, triage it, draft replies in the brand's voice
from the brand's facts only, and keep a person in charge of what goes out. Nothing is ever sent.

Every email is untrusted data. Its text reaches a model only inside <email> tags with the rule
that it is data; hidden HTML text never reaches the model at all; safety flags are computed by
code, not by the model; drafts are checked by code (core/grounding.py) and replaced by a reply
code writes when the check fails.

- `reading`: .eml, .mbox, .txt and tables of mail into ParsedEmail;
- `safety`: flags for injection, risky links and attachments; the email as delimited data;
- `triage`: intent, urgency, sentiment, language, whether it needs a reply;
- `drafting`: the prompt, the checks and the fallback reply;
- `queue`: the stored queue and the person's decisions;
- `export`: approved replies as .eml files and tables.
"""
