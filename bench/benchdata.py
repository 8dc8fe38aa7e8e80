"""Benchmark datasets: vectors, scalar columns, filters and exact ground truth.

Two datasets:

* ``synthetic``: seeded float32, L2; ``clustered`` (default: a Gaussian mixture with a low
  intrinsic dimension, like real embeddings) or ``uniform`` in [0, 1) (the hard case for HNSW:
  recall@10 at ef=64 is only ~0.35 at 100k x 128). Scalar field ``cat = id % 10`` (Int64); the
  filtered search keeps ``cat == 3`` (10 % of rows).
* ``debian``: /work/shared/datasets/debian-minilm (384-d MiniLM embeddings, COSINE). base.npy is
  float16 and is cast to float32 (as the dataset's load.py does). Scalar fields ``section``
  (VarChar) and ``size`` (Int64, missing -> 0); the filtered search keeps ``section == "libs"``
  (~10 % of rows).

Ground truth is exact (faiss flat search over float32), so it holds for any ``--rows``; for the
full debian set the shipped gt_ids.npy is used and cross-checked.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

DEBIAN_DIR = Path("/work/shared/datasets/debian-minilm")
K_GT = 10


@dataclass
class ScalarField:
    name: str
    kind: str  # "int64" or "varchar"
    values: np.ndarray  # int64 array, or object array of str


@dataclass
class Dataset:
    name: str
    metric: str  # "L2" or "COSINE" (Milvus metric names)
    base: np.ndarray  # float32 [n, d]
    queries: np.ndarray  # float32 [q, d]
    gt: np.ndarray  # int64 [q, >=10], exact top-k ids (id == row number)
    scalars: list[ScalarField]
    filter_expr: str  # keeps ~10 % of rows
    filter_mask: np.ndarray  # bool [n], rows kept by filter_expr
    filtered_gt: np.ndarray = field(default_factory=lambda: np.zeros((0, K_GT), np.int64))
    # query-by-expression: "<base_filter> and id >= A and id < A + window" (~100 rows)
    query_base_filter: str = ""
    query_window: int = 1000

    @property
    def n(self) -> int:
        return int(self.base.shape[0])

    @property
    def dim(self) -> int:
        return int(self.base.shape[1])

    def query_expr(self, rng: np.random.Generator) -> str:
        window = min(self.query_window, self.n)
        start = int(rng.integers(0, max(1, self.n - window + 1)))
        expr = f"id >= {start} and id < {start + window}"
        return f"{self.query_base_filter} and {expr}" if self.query_base_filter else expr

    def rows(self, start: int, stop: int) -> list[dict[str, object]]:
        """Row-based insert payload for ids [start, stop) (vectors as Python lists)."""
        vecs = self.base[start:stop].tolist()
        cols: list[tuple[str, list[object]]] = [
            (s.name, s.values[start:stop].tolist()) for s in self.scalars
        ]
        out: list[dict[str, object]] = []
        for j, vec in enumerate(vecs):
            row: dict[str, object] = {"id": start + j, "vector": vec}
            for name, col in cols:
                row[name] = col[j]
            out.append(row)
        return out


def _normalize(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32)


def exact_topk(
    base: np.ndarray, queries: np.ndarray, metric: str, k: int, ids: np.ndarray | None = None
) -> np.ndarray:
    """Exact top-k ids (flat search). For COSINE, vectors are normalised and IP is used."""
    if metric == "COSINE":
        base, queries = _normalize(base), _normalize(queries)
        index: faiss.Index = faiss.IndexFlatIP(base.shape[1])
    else:
        index = faiss.IndexFlatL2(base.shape[1])
    index.add(np.ascontiguousarray(base, dtype=np.float32))
    _, found = index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, base.shape[0]))
    found = found.astype(np.int64)
    if ids is not None:
        found = np.where(found >= 0, ids[np.clip(found, 0, None)], -1)
    return found


def _finish(ds: Dataset) -> Dataset:
    kept = np.flatnonzero(ds.filter_mask).astype(np.int64)
    if kept.size:
        ds.filtered_gt = exact_topk(ds.base[kept], ds.queries, ds.metric, K_GT, ids=kept)
    return ds


def _clustered(rng: np.random.Generator, n: int, dim: int, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian mixture: 256 centres ~ N(0, 1); each cluster spreads along its own random 24-d
    subspace (scale 0.6) plus isotropic noise (0.05). Low intrinsic dimension, like embeddings."""
    k, latent = 256, 24
    centres = rng.standard_normal((k, dim), dtype=np.float32)
    maps = rng.standard_normal((k, latent, dim), dtype=np.float32) * np.float32(0.6 / np.sqrt(latent))

    def draw(m: int) -> np.ndarray:
        labels = rng.integers(0, k, m)
        z = rng.standard_normal((m, latent), dtype=np.float32)
        x = np.float32(0.05) * rng.standard_normal((m, dim), dtype=np.float32)
        for c in range(k):
            sel = labels == c
            x[sel] += centres[c] + z[sel] @ maps[c]
        return x

    return draw(n), draw(n_queries)


def synthetic(rows: int, dim: int, n_queries: int, seed: int, dist: str = "clustered") -> Dataset:
    rng = np.random.default_rng(seed)
    if dist == "uniform":
        base = rng.random((rows, dim), dtype=np.float32)
        queries = rng.random((n_queries, dim), dtype=np.float32)
    else:
        base, queries = _clustered(rng, rows, dim, n_queries)
    ids = np.arange(rows, dtype=np.int64)
    cat = ids % 10
    ds = Dataset(
        name="synthetic" if dist == "clustered" else f"synthetic-{dist}",
        metric="L2",
        base=base,
        queries=queries,
        gt=exact_topk(base, queries, "L2", K_GT),
        scalars=[ScalarField("cat", "int64", cat)],
        filter_expr="cat == 3",
        filter_mask=cat == 3,
        query_base_filter="cat == 3",
    )
    return _finish(ds)


def debian(rows: int | None, n_queries: int, folder: Path = DEBIAN_DIR) -> Dataset:
    base_full = np.load(folder / "base.npy")
    n = base_full.shape[0] if rows is None else min(rows, base_full.shape[0])
    base = base_full[:n].astype(np.float32)
    queries = np.load(folder / "queries.npy").astype(np.float32)[:n_queries]
    sections: list[str] = []
    sizes: list[int] = []
    with gzip.open(folder / "texts.jsonl.gz", "rt", encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= n:
                break
            rec = json.loads(line)
            sections.append(str(rec.get("section") or ""))
            size = rec.get("size")
            sizes.append(int(size) if isinstance(size, int | float) else 0)
    section_arr = np.array(sections, dtype=object)
    if n == base_full.shape[0]:
        gt = np.load(folder / "gt_ids.npy")[:n_queries, :K_GT].astype(np.int64)
        check = exact_topk(base, queries[:20], "COSINE", K_GT)
        agree = float(np.mean([len(set(a) & set(b)) / K_GT for a, b in zip(check, gt[:20], strict=True)]))
        if agree < 0.99:
            raise RuntimeError(f"debian gt_ids.npy disagrees with exact search ({agree:.3f})")
    else:
        gt = exact_topk(base, queries, "COSINE", K_GT)
    ds = Dataset(
        name="debian",
        metric="COSINE",
        base=base,
        queries=queries,
        gt=gt,
        scalars=[
            ScalarField("section", "varchar", section_arr),
            ScalarField("size", "int64", np.array(sizes, dtype=np.int64)),
        ],
        filter_expr='section == "libs"',
        filter_mask=section_arr == "libs",
        query_base_filter='section == "libs"',
    )
    return _finish(ds)


def recall_at_k(found: Sequence[Sequence[int] | np.ndarray] | np.ndarray, gt: np.ndarray, k: int = K_GT) -> float:
    """Mean share of each query's true top-k found among its first k results (ids < 0 ignored)."""
    gt = np.asarray(gt)[:, :k]
    if len(found) != len(gt):
        raise ValueError(f"{len(found)} result rows for {len(gt)} ground-truth rows")
    hits = 0
    total = 0
    for f, g in zip(found, gt.tolist(), strict=True):
        truth = {x for x in g if x >= 0}
        hits += len(set(list(f)[:k]) & truth)
        total += len(truth)
    return hits / total if total else float("nan")
