"""Causal language models run in-process with transformers: the local backend and, through it, the embedded one."""
from __future__ import annotations

import threading
import time
from typing import Iterator, Sequence

from core.config import setting
from core.errors import LLMError
from core.i18n import N_, Msg
from core.llm.base import BackendSpec, BackendType, Completion, Message, Option, Progress, register
from core.shared import quiet_transformers


def _device_and_dtype():
    import torch

    if torch.cuda.is_available():
        return "cuda", torch.bfloat16
    return "cpu", torch.float32


class TransformersBackend:
    """Greedy or sampled generation with one model shared by every session of the process."""

    def __init__(self, path: str, *, kind: str = "local", model_name: str | None = None, batch_size: int | None = None):
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            quiet_transformers()
            self.device, dtype = _device_and_dtype()
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self.model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype).to(self.device).eval()
        except (OSError, ValueError) as error:
            raise LLMError(Msg("Could not load the model '{path}': {problem}", path=path, problem=str(error).splitlines()[0])) from error
        self._torch = torch
        self.kind = kind
        self.model_name = model_name or path
        self.model_path = path
        # Bulk jobs batch with left padding, so every row's generation starts at the same position.
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.context_window = int(getattr(self.model.config, "max_position_embeddings", 2048) or 2048)
        self.batch_size = batch_size or (32 if self.device == "cuda" else 8)
        # One generate at a time per model: concurrent sessions queue instead of oversubscribing the cores.
        self._lock = threading.Lock()

    def perplexity(self, text: str, max_tokens: int = 1024) -> tuple[float, int]:
        """exp(mean next-token loss) of the text under this model, and the tokens scored."""
        torch = self._torch
        encoded = self.tokenizer(text, return_tensors="pt", truncation=True, max_length=min(max_tokens, self.context_window)).to(self.device)
        tokens = int(encoded["input_ids"].shape[1])
        if tokens < 2:
            raise ValueError("Perplexity needs a text of at least two tokens.")
        with self._lock, torch.inference_mode():
            loss = self.model(**encoded, labels=encoded["input_ids"]).loss
        return float(torch.exp(loss.float())), tokens

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _prompt(self, messages: Sequence[Message]) -> str:
        return self.tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False)

    def _generation_kwargs(self, max_tokens: int, temperature: float) -> dict:
        kwargs = {
            "max_new_tokens": max_tokens,
            "pad_token_id": self.tokenizer.pad_token_id,
            "repetition_penalty": 1.1,
        }
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature, top_p=0.9)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs

    def _encode(self, prompts: list[str]):
        return self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)

    def complete(self, messages: Sequence[Message], *, max_tokens: int, temperature: float, schema: dict | None = None) -> Completion:
        return self._generate_batch([messages], max_tokens=max_tokens, temperature=temperature)[0]

    def _generate_batch(self, conversations, *, max_tokens: int, temperature: float) -> list[Completion]:
        prompts = [self._prompt(messages) for messages in conversations]
        started = time.perf_counter()
        with self._lock, self._torch.inference_mode():
            encoded = self._encode(prompts)
            output = self.model.generate(**encoded, **self._generation_kwargs(max_tokens, temperature))
        latency = time.perf_counter() - started
        prompt_width = encoded["input_ids"].shape[1]
        results = []
        for row, attention in zip(output, encoded["attention_mask"]):
            new_tokens = row[prompt_width:]
            new_tokens = new_tokens[new_tokens != self.tokenizer.pad_token_id]
            text = self.tokenizer.decode(new_tokens, skip_special_tokens=True).strip()
            results.append(
                Completion(
                    text=text,
                    backend=self.kind,
                    model=self.model_name,
                    tokens_in=int(attention.sum()),
                    tokens_out=int(len(new_tokens)),
                    latency_s=latency / len(prompts),
                )
            )
        return results

    def complete_many(
        self,
        conversations: Sequence[Sequence[Message]],
        *,
        max_tokens: int,
        temperature: float,
        progress: Progress | None = None,
    ) -> list[Completion]:
        # Sorting by length keeps padding (wasted compute) small inside each batch.
        order = sorted(range(len(conversations)), key=lambda i: sum(len(m["content"]) for m in conversations[i]))
        results: list[Completion | None] = [None] * len(conversations)
        done = 0
        for start in range(0, len(order), self.batch_size):
            indices = order[start : start + self.batch_size]
            batch = self._generate_batch([conversations[i] for i in indices], max_tokens=max_tokens, temperature=temperature)
            for index, completion in zip(indices, batch):
                results[index] = completion
            done += len(indices)
            if progress:
                progress(done, len(conversations))
        return [r for r in results if r is not None]

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        prompt = self._prompt(messages)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=300)
        encoded = self._encode([prompt])
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with self._lock, self._torch.inference_mode():
                    self.model.generate(**encoded, streamer=streamer, **self._generation_kwargs(max_tokens, temperature))
            except BaseException as error:  # surfaced to the consumer below
                failure.append(error)
                streamer.end()

        started = time.perf_counter()
        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        pieces = []
        for piece in streamer:
            if piece:
                pieces.append(piece)
                yield piece
        worker.join()
        if failure:
            raise LLMError(Msg("The model stopped with an error: {problem}", problem=failure[0])) from failure[0]
        text = "".join(pieces).strip()
        return Completion(
            text=text,
            backend=self.kind,
            model=self.model_name,
            tokens_in=int(encoded["attention_mask"].sum()),
            tokens_out=self.count_tokens(text),
            latency_s=time.perf_counter() - started,
        )


def resolve_local(*, model: str | None = None, **_) -> BackendSpec:
    local_model = setting("MERCURY_LOCAL_MODEL", model)
    if not local_model:
        raise LLMError(Msg("The local backend needs a model: give a transformers model id or a local folder."))
    return BackendSpec(kind="local", model=local_model)


register(
    BackendType(
        name="local",
        label=N_("Local model"),
        description=N_("Local model (transformers)"),
        resolve=resolve_local,
        load=lambda spec: TransformersBackend(spec.model, kind="local"),
        order=10,
        options=(
            Option(
                "model",
                N_("Model id or local folder"),
                setting="MERCURY_LOCAL_MODEL",
                help=N_("Any transformers causal LM; runs on the GPU in bf16 when one is present."),
            ),
        ),
    )
)
