"""Hybrid-search fusion (elanus.core.rerank): RRF and weighted scores against a reference
computed per pk in plain Python from the same hits."""

from __future__ import annotations

import math

import numpy as np
import pytest

from elanus.cluster.types import SearchHits
from elanus.core.rerank import fuse, rrf_scores, weighted_scores


def _hits(pks: list[list[int]], scores: list[list[float]], metric: str, width: int) -> SearchHits:
    nq = len(pks)
    p = np.zeros((nq, width), dtype=np.int64)
    s = np.full((nq, width), -np.inf, dtype=np.float32)
    v = np.zeros((nq, width), dtype=np.bool_)
    for i in range(nq):
        p[i, :len(pks[i])] = pks[i]
        s[i, :len(scores[i])] = scores[i]
        v[i, :len(pks[i])] = True
    return SearchHits(scores=s, pks=p, valid=v, fields={"pk_copy": p.reshape(-1).copy()}, metric=metric)


A = _hits([[1, 2, 3], [9]], [[0.9, 0.5, 0.1], [0.3]], "IP", 3)
B = _hits([[3, 4, 1], [8, 9]], [[0.2, 0.4, 1.5], [0.1, 0.7]], "L2", 3)


def _expected(per_pk: dict[int, float], limit: int, offset: int = 0) -> list[tuple[int, float]]:
    return sorted(per_pk.items(), key=lambda kv: (-kv[1], kv[0]))[offset:offset + limit]


def _check(hits: SearchHits, expected: list[list[tuple[int, float]]]) -> None:
    for i, exp in enumerate(expected):
        n = int(hits.valid[i].sum())
        assert hits.pks[i, :n].tolist() == [pk for pk, _ in exp]
        np.testing.assert_allclose(hits.scores[i, :n], [s for _, s in exp], rtol=1e-6)
        # fields follow the hits
        assert hits.fields["pk_copy"].reshape(hits.pks.shape)[i, :n].tolist() == [pk for pk, _ in exp]


def test_rrf_matches_reference() -> None:
    k = 60.0
    expected = []
    for pa_, pb in [([1, 2, 3], [3, 4, 1]), ([9], [8, 9])]:
        per: dict[int, float] = {}
        for lst in (pa_, pb):
            for rank, pk in enumerate(lst, start=1):
                per[pk] = per.get(pk, 0.0) + 1.0 / (k + rank)
        expected.append(_expected(per, 3))
    hits = fuse([A, B], rrf_scores([A, B], k), True, 3)
    _check(hits, expected)
    assert hits.metric == "IP"


@pytest.mark.parametrize("norm", [True, False])
def test_weighted_matches_reference(norm: bool) -> None:
    w = (0.7, 0.3)

    def f_ip(s: float) -> float:
        return 0.5 + math.atan(s) / math.pi if norm else s

    def f_l2(d: float) -> float:
        return 1.0 - 2.0 * math.atan(d) / math.pi  # mixed directions: always converted

    expected = []
    for q in range(2):
        per: dict[int, float] = {}
        for hits, weight, f in ((A, w[0], f_ip), (B, w[1], f_l2)):
            for j in range(3):
                if hits.valid[q, j]:
                    pk = int(hits.pks[q, j])
                    per[pk] = per.get(pk, 0.0) + weight * f(float(hits.scores[q, j]))
        expected.append(_expected(per, 2, offset=1))
    contributions, larger = weighted_scores([A, B], w, norm)
    assert larger
    _check(fuse([A, B], contributions, larger, 2, offset=1), expected)


def test_weighted_without_norm_keeps_distance_order() -> None:
    contributions, larger = weighted_scores([B, B], (0.5, 0.5), False)
    assert not larger
    hits = fuse([B, B], contributions, larger, 3)
    assert hits.pks[0].tolist() == [3, 4, 1]  # smallest distance first
    assert hits.metric == "L2"
