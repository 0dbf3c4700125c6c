"""The index (IKM) of PermenPAN-RB 14/2017, checked against examples computed by hand."""
from __future__ import annotations

from decimal import Decimal

import pytest

from app.skm.models import ELEMENTS
from app.skm.services import band, index_of, survey_index


def answers(*scores: int) -> dict[str, int]:
    assert len(scores) == 9
    return dict(zip(ELEMENTS, scores, strict=True))


def test_one_respondent_scoring_three_everywhere_is_75_band_c() -> None:
    # NRR = 3 for each element; (9 x 3 x 1/9) x 25 = 75.00
    index = index_of([answers(3, 3, 3, 3, 3, 3, 3, 3, 3)])
    assert (index.ikm, index.band, index.band_name) == (Decimal("75.00"), "C", "Kurang baik")
    assert [e.nrr for e in index.elements] == [Decimal("3.00")] * 9


def test_two_respondents_by_hand() -> None:
    # Respondent 1: 4 4 3 3 4 4 4 2 3; respondent 2: 3 4 2 3 4 3 4 3 3
    # NRR: 3.5 4 2.5 3 4 3.5 4 2.5 3 -> sum 30 -> 30/9 x 25 = 83.333.. -> 83.33 (B)
    index = index_of([answers(4, 4, 3, 3, 4, 4, 4, 2, 3), answers(3, 4, 2, 3, 4, 3, 4, 3, 3)])
    assert index.respondents == 2
    assert [str(e.nrr) for e in index.elements] == ["3.50", "4.00", "2.50", "3.00", "4.00", "3.50", "4.00", "2.50", "3.00"]
    assert (index.ikm, index.band) == (Decimal("83.33"), "B")
    # the weakest elements: time and complaint handling (2.50), then cost (3.00, before facilities in the list)
    assert [e.element for e in index.weakest] == ["time", "complaints", "cost"]


def test_the_exact_one_ninth_is_used_not_0_111() -> None:
    # All fours: exactly 100.00 (with 0.111 it would be 99.90).
    assert index_of([answers(4, 4, 4, 4, 4, 4, 4, 4, 4)]).ikm == Decimal("100.00")
    # All ones: 25.00, band D.
    lowest = index_of([answers(1, 1, 1, 1, 1, 1, 1, 1, 1)])
    assert (lowest.ikm, lowest.band) == (Decimal("25.00"), "D")


@pytest.mark.parametrize(("ikm", "expected"), [
    ("100.00", "A"), ("88.31", "A"), ("88.30", "B"), ("76.61", "B"), ("76.60", "C"), ("65.00", "C"),
    ("64.99", "D"), ("25.00", "D"),
])
def test_band_edges(ikm: str, expected: str) -> None:
    assert band(Decimal(ikm))[0] == expected


def test_the_band_is_read_from_the_rounded_figure() -> None:
    # 100 respondents, score total 3179 spread over the elements: 3179/900 x 25 = 88.3055.. -> 88.31 (A),
    # though the unrounded value is below 88.31.
    totals = dict.fromkeys(ELEMENTS, 353)
    totals["facilities"] = 3179 - 8 * 353
    high = survey_index(totals, 100)
    assert (high.ikm, high.band) == (Decimal("88.31"), "A")
    totals["facilities"] -= 1  # 3178/900 x 25 = 88.2777.. -> 88.28 (B)
    assert (survey_index(totals, 100).ikm, survey_index(totals, 100).band) == (Decimal("88.28"), "B")
    # 100 respondents, total 2758: 76.6111.. -> 76.61 (B); 2757: 76.5833.. -> 76.58 (C)
    totals = dict.fromkeys(ELEMENTS, 306)
    totals["facilities"] = 2758 - 8 * 306
    assert (survey_index(totals, 100).ikm, survey_index(totals, 100).band) == (Decimal("76.61"), "B")
    totals["facilities"] -= 1
    assert (survey_index(totals, 100).ikm, survey_index(totals, 100).band) == (Decimal("76.58"), "C")


def test_no_respondents_no_index() -> None:
    empty = index_of([])
    assert (empty.respondents, empty.ikm, empty.band, empty.weakest) == (0, None, None, [])
