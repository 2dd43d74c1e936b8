"""Figures per site for monitoring (registry/selectors/queries.py query_figures): open, responded and
closed queries, and the median number of days from opening to the last close. Expected values are
worked out by hand below from the times each query was opened and closed."""
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from registry.models import Role
from registry.selectors.queries import SiteQueryFigures, median_days_to_close, query_figures
from registry.services import queries as services
from registry.services.queries import query_close, query_open, query_reopen, query_respond
from tests import factories

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """The services' clock, set by the test: `clock.at(days)` makes "now" T0 + that many days."""
    state = SimpleNamespace(now=T0)
    monkeypatch.setattr(services, "timezone", SimpleNamespace(now=lambda: state.now))

    def at(days: float) -> None:
        state.now = T0 + timedelta(days=days)

    return SimpleNamespace(at=at)


def test_the_median_of_an_odd_and_an_even_number_of_durations():
    day = 86400
    assert median_days_to_close([1 * day, 12 * day, 4 * day]) == 4.0  # sorted 1, 4, 12: the middle one
    assert median_days_to_close([2 * day, 5 * day]) == 3.5  # (2 + 5) / 2
    assert median_days_to_close([day / 2]) == 0.5
    assert median_days_to_close([]) is None


def test_figures_per_site_count_states_and_take_the_median_from_opening_to_the_last_close(clock, site_a, site_b):
    site_c = factories.make_site("site-c", "Hospital C")
    patient_a, patient_b = factories.make_patient(site_a, "P-A"), factories.make_patient(site_b, "P-B")
    data_manager = factories.make_user("dm", role=Role.DATA_MANAGER)
    administrator = factories.make_user("admin", superuser=True)

    def opened_and_closed(patient, close_after_days):
        clock.at(0)
        query = query_open(patient=patient, user=data_manager, text="?")
        clock.at(close_after_days)
        return query_close(query=query, user=data_manager)

    # Site A: closed after 1 day; closed after 2 hours, reopened and closed again at day 12 (counts 12,
    # from its opening to its last close); closed after 4 days. Durations 1, 12, 4 → median 4.0 (with the
    # first close instead of the last it would be 1.0). Also one open and one responded query.
    opened_and_closed(patient_a, 1)
    reopened = opened_and_closed(patient_a, 2 / 24)
    clock.at(5)
    query_reopen(query=reopened, user=data_manager, text="Not fixed.")
    clock.at(12)
    query_close(query=reopened, user=data_manager)
    opened_and_closed(patient_a, 4)
    query_open(patient=patient_a, user=data_manager, text="Still open")
    query_respond(query=query_open(patient=patient_a, user=data_manager, text="?"), user=administrator, text="Done")
    # Site B: closed after 2 and 5 days → median (2 + 5) / 2 = 3.5; nothing open.
    opened_and_closed(patient_b, 2)
    opened_and_closed(patient_b, 5)
    # Site C: no queries at all → zeros and no median.

    figures = query_figures(data_manager)

    assert figures == [
        SiteQueryFigures(site_code="site-a", open=1, responded=1, closed=3, median_days_to_close=4.0),
        SiteQueryFigures(site_code="site-b", open=0, responded=0, closed=2, median_days_to_close=3.5),
        SiteQueryFigures(site_code=site_c.code, open=0, responded=0, closed=0, median_days_to_close=None),
    ]


def test_a_coordinator_gets_the_figures_of_their_sites_only(clock, site_a, site_b):
    data_manager = factories.make_user("dm", role=Role.DATA_MANAGER)
    query_open(patient=factories.make_patient(site_b, "P-B"), user=data_manager, text="?")
    coordinator = factories.make_user("coord", role=Role.COORDINATOR, sites=[site_a])

    assert query_figures(coordinator) == [
        SiteQueryFigures(site_code="site-a", open=0, responded=0, closed=0, median_days_to_close=None)]


@pytest.mark.parametrize("per_site", [1, 6])
def test_the_figures_cost_three_queries_whatever_the_number_of_queries(clock, site_a, site_b, per_site,
                                                                      django_assert_num_queries):
    data_manager = factories.make_user("dm", role=Role.DATA_MANAGER)
    for site in (site_a, site_b):
        patient = factories.make_patient(site)
        for _ in range(per_site):
            query_close(query=query_open(patient=patient, user=data_manager, text="?"), user=data_manager)
    query_figures(data_manager)  # the user's access read once (cached on the user object)

    # 1 the sites the user sees, 2 the counts per site and state (one GROUP BY), 3 the closed queries'
    # opening and closing times.
    with django_assert_num_queries(3):
        figures = query_figures(data_manager)
    assert [row.closed for row in figures] == [per_site, per_site]
