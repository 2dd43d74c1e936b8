import pytest

from registry.models import Role
from tests import factories, template_db

template_db.install()


@pytest.fixture
def site_a(db):
    return factories.make_site("site-a", "Hospital A")


@pytest.fixture
def site_b(db):
    return factories.make_site("site-b", "Hospital B")


@pytest.fixture
def alive_patients(site_a):
    """Patients P-1 and P-2 of site A, alive: what the malformed files of tests/records/malformed_csv.py
    would change."""
    factories.make_patient(site_a, "P-1", vital=1)
    factories.make_patient(site_a, "P-2", vital=1)


@pytest.fixture
def coordinator_a(site_a):
    return factories.make_user("coordinator_a", role=Role.COORDINATOR, sites=[site_a])


@pytest.fixture
def administrator(db):
    return factories.make_user("administrator", superuser=True)


@pytest.fixture(scope="session")
def demo_cohort_snapshot(django_db_setup, django_db_blocker):
    """The rows `load_demo` writes, loaded once per test process (tests/demo_world.py)."""
    from tests.demo_world import demo_cohort_rows

    with django_db_blocker.unblock():
        return demo_cohort_rows()


@pytest.fixture
def demo_cohort_loaded(demo_cohort_snapshot, db):
    """The demo cohort as `load_demo` leaves it, in this test's transaction (rolled back with it)."""
    from tests.demo_world import demo_cohort_put_back

    demo_cohort_put_back(demo_cohort_snapshot)
