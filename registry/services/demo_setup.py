"""The demo sites and users of `seed_demo` and `load_demo`, written through the instance services
(registry/services/instances.py) by the system (user None) with the door "seed_demo", so that what
they create reaches the audit trail like any other write.

    demo_sites_ensure()                 the demo sites, created when missing
    demo_user_ensure(...)               a demo user with its role, sites and a new password

Both are idempotent: they write only what is missing or differs, so a re-run adds no audit-trail row.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from registry.models import RegistryRole, Site, SiteMembership
from registry.services.demo_cohort import DEMO_SITE_CODES
from registry.services.instances import instance_save

SEED_DOOR = "seed_demo"
DEMO_SITE_NAMES = {"demo-a": "Demo Hospital A", "demo-b": "Demo Hospital B"}


class DemoPasswordTooWeak(ValueError):
    """A given demo password fails the password validators; `messages` says why."""

    def __init__(self, username: str, messages: list[str]):
        self.username = username
        self.messages = messages
        super().__init__(f"The password for {username} is too weak: {' '.join(messages)}")


@dataclass(frozen=True)
class DemoSites:
    sites: dict[str, Site]  # code → site, in DEMO_SITE_CODES order
    created: tuple[Site, ...]


@transaction.atomic
def demo_sites_ensure() -> DemoSites:
    """The demo sites by code, each created (by the system) when missing."""
    existing = {site.code: site for site in Site.objects.filter(code__in=DEMO_SITE_CODES)}
    created = []
    for code in DEMO_SITE_CODES:
        if code not in existing:
            site = Site(code=code, name=DEMO_SITE_NAMES[code])
            instance_save(instance=site, user=None, door=SEED_DOOR)
            existing[code] = site
            created.append(site)
    return DemoSites(sites={code: existing[code] for code in DEMO_SITE_CODES}, created=tuple(created))


@transaction.atomic
def demo_user_ensure(*, username: str, superuser: bool, role: str, sites: Iterable[Site], password: str):
    """The user `username`, active and able to log in to the admin with `password`, with registry
    role `role` and memberships of `sites` (others kept); returns (user, created).

    Raises DemoPasswordTooWeak, writing nothing, when `password` fails the password validators.
    """
    user_model = get_user_model()
    user = user_model.objects.filter(username=username).first()
    created = user is None
    if created:
        user = user_model(username=username)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise DemoPasswordTooWeak(username, error.messages) from None
    wanted = {"is_active": True, "is_staff": True, "is_superuser": superuser}
    differing = [name for name, value in wanted.items() if getattr(user, name) != value]
    for name in differing:
        setattr(user, name, wanted[name])
    user.set_password(password)
    instance_save(instance=user, user=None, door=SEED_DOOR)

    registry_role = RegistryRole.objects.filter(user=user).first()
    if registry_role is None:
        instance_save(instance=RegistryRole(user=user, role=role), user=None, door=SEED_DOOR)
    elif registry_role.role != role:
        registry_role.role = role
        instance_save(instance=registry_role, user=None, door=SEED_DOOR)
    member_of = set(SiteMembership.objects.filter(user=user).values_list("site_id", flat=True))
    for site in sites:
        if site.pk not in member_of:
            instance_save(instance=SiteMembership(user=user, site=site), user=None, door=SEED_DOOR)
    return user, created
