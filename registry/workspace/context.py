"""What every workspace page knows about its user (a context processor)."""
from dataclasses import dataclass

from registry.models import Role
from registry.selectors.access import access_for

ROLE_LABELS = {
    Role.COORDINATOR: "coordinator", Role.VIEWER: "viewer", Role.INVESTIGATOR: "investigator",
    Role.ADMINISTRATOR: "administrator", Role.DATA_MANAGER: "data manager",
}


@dataclass(frozen=True)
class WorkspaceAccess:
    role_label: str
    can_enrol: bool  # may add patients to at least one site
    is_administrator: bool
    sees_data_quality: bool = False  # the data-quality pages (a role with identified access)


def workspace_access(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    access = access_for(user)
    return {"workspace_access": WorkspaceAccess(
        role_label=ROLE_LABELS.get(access.role, "no role"),
        can_enrol=access.can_write and (access.sees_all_sites or bool(access.site_ids)),
        is_administrator=access.role == Role.ADMINISTRATOR,
        sees_data_quality=access.role is not None and access.identified)}
