import pytest

from registry.models import Role
from tests import factories, template_db

template_db.install()

ENGINES = {"sqlite": "django.db.backends.sqlite3", "postgresql": "django.db.backends.postgresql"}


def pytest_collection_modifyitems(config, items):
    """`one_database(engine)`: a test run on one engine only. scripts/test runs the suite on SQLite and
    again on PostgreSQL; a test whose outcome cannot depend on the database (settings read in a fresh
    process, who may reach which admin URL, the rendering of a figure) gains nothing from its second
    run, and some of those are among the slowest. The engine chosen is named at each use, with why."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    for item in items:
        marker = item.get_closest_marker("one_database")
        if marker is None:
            continue
        wanted = marker.args[0]
        if wanted not in ENGINES:
            raise pytest.UsageError(f"one_database({wanted!r}) in {item.nodeid}: the engines are {', '.join(ENGINES)}")
        if ENGINES[wanted] != engine:
            item.add_marker(pytest.mark.skip(reason=f"runs once, on {wanted}: its outcome does not depend on the database"))


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
