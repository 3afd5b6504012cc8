"""Where library chatter goes: warnings from pandas, scikit-learn, transformers and the like are
written to the data folder's log for whoever maintains the server, never to a person's screen."""
from __future__ import annotations

import logging
import warnings

from core.config import data_dir

LOG_NAME = "mercury.log"


def library_warnings_to_log() -> None:
    """Route Python warnings (and the transformers and torch loggers) to data/mercury.log."""
    handler = logging.FileHandler(data_dir() / LOG_NAME, encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    warnings.simplefilter("default")  # each warning once per place, as Python does by default
    logging.captureWarnings(True)
    for name in ("py.warnings", "transformers", "torch", "httpx", "jieba"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.propagate = False
