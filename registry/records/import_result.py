"""What an import of flat records reports back (re-exported by registry.services.records)."""
from dataclasses import dataclass, field

from .soft_checks import SoftCheckWarning


@dataclass(frozen=True)
class ImportProblem:
    line: int | None  # CSV: row number in the file (header = 1); JSON: 1-based item index
    record: str  # record_id as given ("" if missing)
    instrument: str  # form name ("enrollment"/"vital_status" for the record row, "" if unknown)
    instance: str  # redcap_repeat_instance as given
    field: str  # column name, or "" for a problem with the whole row
    value: str  # the offending value as given
    reason: str  # plain clinical language, e.g. "is not a date in YYYY-MM-DD format"


@dataclass(frozen=True)
class InstanceChange:
    record: str
    instrument: str
    instance: int | None
    action: str  # "create" | "update"
    changes: dict[str, tuple[str, str]]  # column -> (old text, new text), as flat-format text


@dataclass
class ImportResult:
    dry_run: bool
    problems: list[ImportProblem] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)  # per instrument
    updated: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)
    changes: list[InstanceChange] = field(default_factory=list)  # the first `max_changes`, for previews
    changes_truncated: bool = False
    rows_read: int = 0
    written_records: set[str] = field(default_factory=set)  # record IDs of every created or updated instance
    # The ids of every instance created or changed, by model (what the soft checks look at).
    written_ids: dict[type, list[int]] = field(default_factory=dict)
    # Soft checks of the values written (registry/records/soft_checks.py): accepted, but worth a look.
    warnings: list[SoftCheckWarning] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems
