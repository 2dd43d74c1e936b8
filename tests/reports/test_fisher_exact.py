"""Fisher's exact test for Table 2 of Wu et al. 2024."""
from math import comb

import pytest

from registry.reports.statistics import fisher_exact_two_sided


def test_two_sided_p_is_the_hypergeometric_sum_worked_by_hand():
    # given Table 2's CNS progression, alectinib 3 of 20 vs crizotinib 30 of 53: margins 20/53
    # patients, 33/40 with/without CNS progression, N = 73. With the margins fixed, the alectinib
    # count a has P(a) = C(20, a)·C(53, 33 − a) / C(73, 33): P(3) = 0.0011264 (observed),
    # P(4) = 0.0059839, P(15) = 0.0015878, P(16) = 0.0002481. Two-sided p sums every table no more
    # probable than the observed one: a = 0..3 (0.0012761) and a = 16..20 (0.0002769) → 0.0015530.
    def probability(a):
        return comb(20, a) * comb(53, 33 - a) / comb(73, 33)

    by_hand = sum(probability(a) for a in (0, 1, 2, 3, 16, 17, 18, 19, 20))
    p = fisher_exact_two_sided(3, 20, 30, 53)
    assert p == pytest.approx(by_hand, rel=1e-9)
    assert p == pytest.approx(0.0015530, abs=5e-8)


# Wu et al. 2024, Table 2 (registry/reports/published.py types it): (events, total) per group and the published p
# as printed. Totals are the cohort sizes of the table header (alectinib 20, crizotinib 53,
# ceritinib 7, other second-generation ALK-TKIs 46) and Table 1's baseline CNS metastases
# (alectinib 6 yes / 14 no, crizotinib 11 / 42); events are the printed percentages of those.
TABLE_2 = [
    ("CNS progression, all, alectinib vs crizotinib", (3, 20), (30, 53), "0.002"),
    ("CNS progression, baseline CNS metastases, alectinib vs crizotinib", (1, 6), (8, 11), "0.05"),
    ("CNS progression, no baseline CNS metastases, alectinib vs crizotinib", (2, 14), (22, 42), "0.015"),
    ("symptomatic progression, alectinib vs crizotinib", (8, 20), (27, 53), "0.442"),
    ("symptomatic CNS progression, alectinib vs crizotinib", (1, 20), (17, 53), "0.016"),
    ("CNS progression, all, ceritinib vs other ALK-TKIs", (6, 7), (18, 46), "0.038"),
    ("symptomatic progression, ceritinib vs other ALK-TKIs", (2, 7), (17, 46), "1"),
    ("symptomatic CNS progression, ceritinib vs other ALK-TKIs", (2, 7), (4, 46), "0.174"),
]


@pytest.mark.parametrize("row, group_a, group_b, published", TABLE_2, ids=[row[0] for row in TABLE_2])
def test_fisher_exact_reproduces_the_published_table_2_p_values(row, group_a, group_b, published):
    # to the precision printed: half a unit of the last digit ("0.05" → ± 0.005, "1" → ± 0.5)
    decimals = len(published.partition(".")[2])
    p = fisher_exact_two_sided(*group_a, *group_b)
    assert abs(p - float(published)) <= 0.5 * 10 ** -decimals


def test_an_empty_group_leaves_one_possible_table_so_p_is_one():
    assert fisher_exact_two_sided(0, 0, 3, 7) == 1.0


def test_more_events_than_patients_is_rejected():
    with pytest.raises(ValueError, match="between 0 and the group's total"):
        fisher_exact_two_sided(21, 20, 3, 7)
