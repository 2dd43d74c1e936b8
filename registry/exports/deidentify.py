"""De-identification of an export, as REDCap does it: drop identifiers, pseudonymise, shift dates.

- Columns of fields flagged "Identifier? = y" in the data dictionary (`mrn`, `birth_date`) are dropped.
- `record_id` becomes a keyed hash: the first 16 hex digits (64 bits) of HMAC-SHA256(key,
  "record_id:" + record id). The same key gives a patient the same pseudonym in every dataset, so
  de-identified datasets still join; without the key the pseudonym cannot be computed back.
- Every date of a patient moves back by the same number of days, 0 to 364, taken from
  HMAC-SHA256(key, "date_offset:" + record id): each interval between two dates of one patient
  (within a dataset and across datasets) is kept exactly, so derived day counts, months and ages
  in completed years need no change. Rows are ordered by pseudonym, not by record id.

Date shifting hides calendar dates from a reader; it is not anonymisation. A date the reader knows
(the data cut-off, at which many endpoints are censored) gives that patient's offset away.

The key: REGISTRY_DEIDENTIFICATION_KEY (settings.DEIDENTIFICATION_KEY, 32+ characters; local settings
fall back on the key file scripts/up creates under var/), else one
derived from SECRET_KEY when that is not the local development key (production always has one; a
change of SECRET_KEY then changes every pseudonym), or one given for a single export. Never written
anywhere: the provenance names only its source and a fingerprint, to tell whether two files share it.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings

from registry.records.missing_codes import Coded

from .columns import Column, Kind
from .datasets import ExportPatient

MINIMUM_KEY_CHARACTERS = 32
DATE_OFFSET_DAYS = 365  # offsets 0 to 364
PSEUDONYM_HEX_DIGITS = 16
KEY_SETTING = "REGISTRY_DEIDENTIFICATION_KEY"


class DeidentificationKeyMissing(ValueError):
    """No usable key: the message says how to give one."""


@dataclass(frozen=True)
class DeidentificationKey:
    secret: bytes
    source: str  # where it came from, for the provenance

    def _digest(self, purpose: str, text: str) -> bytes:
        return hmac.new(self.secret, f"{purpose}:{text}".encode(), hashlib.sha256).digest()

    def pseudonym(self, record_id: str) -> str:
        return self._digest("record_id", record_id).hex()[:PSEUDONYM_HEX_DIGITS]

    def date_offset_days(self, record_id: str) -> int:
        # 64 bits modulo 365: the bias (365 / 2**64) is far below anything measurable.
        return int.from_bytes(self._digest("date_offset", record_id)[:8], "big") % DATE_OFFSET_DAYS

    @property
    def fingerprint(self) -> str:
        """Tells two exports' keys apart without revealing either."""
        return self._digest("fingerprint", "").hex()[:12]


def deidentification_key(override: str | None = None) -> DeidentificationKey:
    """The key of a de-identified export: `override` (one export's own key), else the setting, else
    one derived from SECRET_KEY. Raises DeidentificationKeyMissing when there is none."""
    if override is not None:
        if len(override) < MINIMUM_KEY_CHARACTERS:
            raise DeidentificationKeyMissing(
                f"The de-identification key given for this export has {len(override)} characters; "
                f"it needs at least {MINIMUM_KEY_CHARACTERS}."
            )
        return DeidentificationKey(override.encode(), "given for this export")
    configured = getattr(settings, "DEIDENTIFICATION_KEY", None)
    if configured:
        # Local settings may take it from the key file scripts/up creates, and say so.
        return DeidentificationKey(configured.encode(), getattr(settings, "DEIDENTIFICATION_KEY_SOURCE", KEY_SETTING))
    secret_key = settings.SECRET_KEY
    # The fixed key of a machine without SECRET_KEY (config/settings/base.py) is public: never a source.
    if secret_key != settings.LOCAL_DEVELOPMENT_SECRET_KEY and len(secret_key) >= MINIMUM_KEY_CHARACTERS:
        derived = hmac.new(secret_key.encode(), b"registry de-identification key", hashlib.sha256).digest()
        return DeidentificationKey(derived, "derived from SECRET_KEY")
    raise DeidentificationKeyMissing(
        f"De-identified exports need a key: set {KEY_SETTING} to a random string of at least "
        f"{MINIMUM_KEY_CHARACTERS} characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'), "
        "or give one for this export."
    )


class Deidentifier:
    """Applies one key to the columns and rows of one dataset."""

    def __init__(self, key: DeidentificationKey, columns: Sequence[Column]):
        self.key = key
        self.dropped = tuple(column.name for column in columns if column.identifier)
        self._kept = [index for index, column in enumerate(columns) if not column.identifier]
        self.columns = tuple(columns[index] for index in self._kept)
        self._record_index = next(index for index, column in enumerate(self.columns) if column.is_record_id)
        self._date_indexes = [index for index, column in enumerate(self.columns) if column.kind is Kind.DATE]
        self._offsets: dict[str, timedelta] = {}

    def patients(self, patients: Sequence[ExportPatient]) -> list[ExportPatient]:
        """The patients under their pseudonyms, in pseudonym order (record id order would give away
        the order records were created in); notes each one's date offset."""
        pseudonymous = []
        for patient in patients:
            pseudonym = self.key.pseudonym(patient.record_id)
            self._offsets[pseudonym] = timedelta(days=self.key.date_offset_days(patient.record_id))
            pseudonymous.append(patient._replace(record_id=pseudonym))
        return sorted(pseudonymous)

    def row(self, row: list) -> list:
        """One row of the pseudonymous patients': identifiers dropped, dates shifted."""
        kept = [row[index] for index in self._kept]
        offset = self._offsets[kept[self._record_index]]
        for index in self._date_indexes:
            if kept[index] is not None and type(kept[index]) is not Coded:  # a code has no date to shift
                kept[index] -= offset
        return kept

    def provenance(self) -> dict:
        return {
            "record_id": f"pseudonym: HMAC-SHA256 of the record id, first {PSEUDONYM_HEX_DIGITS} hex digits",
            "dates": f"every date of a patient shifted back by the same 0 to {DATE_OFFSET_DAYS - 1} days "
                     "(intervals kept exactly); the data cut-off above is not shifted",
            "dropped_identifier_columns": list(self.dropped),
            "key_source": self.key.source,
            "key_fingerprint": self.key.fingerprint,
        }
