"""Queries (REDCap's data resolution workflow): a question about a record, one of its instrument
instances, or one field of an instance, asked by a data manager, investigator or administrator and
answered by the record's site.

    Open ──respond──▶ Responded ──close──▶ Closed ──reopen──▶ Open
      └──────────────────close──────────────▲

Each transition (and each comment) is a message of the query's thread, written once and never
changed: its author, its UTC time, its text and the transition it made. That thread is the audit of
the query; the query row's own history (django-simple-history) keeps its states as well.

The transitions and who may make them are registry/services/queries.py; nothing else writes here.
"""
from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class QueryState(models.TextChoices):
    OPEN = "open", "Open"
    RESPONDED = "responded", "Responded"
    CLOSED = "closed", "Closed"


class QueryTransition(models.TextChoices):
    OPEN = "open", "Opened"
    RESPOND = "respond", "Responded"
    CLOSE = "close", "Closed"
    REOPEN = "reopen", "Reopened"
    COMMENT = "comment", "Commented"


# The states a query still waits in: its field is marked on the form, its site's worklist lists it.
UNRESOLVED_STATES = (QueryState.OPEN, QueryState.RESPONDED)


class Query(models.Model):
    """A query about a record; `form` and `instance_number` narrow it to an instrument instance
    (instance_number blank on the two non-repeating forms), `field` to one field of that form."""

    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="queries")
    form = models.CharField("instrument", max_length=50, blank=True, default="",
                            help_text="Blank: the query is about the whole record.")
    # Not named `instance`: django-simple-history's historical rows have an `instance` property.
    instance_number = models.PositiveIntegerField(
        "instance", null=True, blank=True, help_text="The repeat instance; blank on a non-repeating form.")
    field = models.CharField(max_length=100, blank=True, default="",
                             help_text="Blank: the query is about the whole instance (or record).")
    state = models.CharField(max_length=10, choices=QueryState.choices, default=QueryState.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField()
    # The last close; blank while the query is not closed (a reopen clears it).
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "queries"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(field="") | ~models.Q(form=""), name="query_field_needs_a_form",
            ),
            models.CheckConstraint(
                condition=models.Q(instance_number__isnull=True) | ~models.Q(form=""),
                name="query_instance_needs_a_form",
            ),
            models.CheckConstraint(
                condition=models.Q(state="closed", closed_at__isnull=False)
                | (~models.Q(state="closed") & models.Q(closed_at__isnull=True)),
                name="query_closed_at_only_when_closed",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "form", "instance_number"]),
            models.Index(fields=["state"]),
        ]

    def __str__(self) -> str:
        return f"Query {self.pk} on {self.target_label}"

    @property
    def target_label(self) -> str:
        """What the query is about, as people read it: "P-1", "P-1 treatment_line #2 line_start"."""
        parts = [self.patient.record_id]
        if self.form:
            parts.append(self.form if self.instance_number is None else f"{self.form} #{self.instance_number}")
        if self.field:
            parts.append(self.field)
        return " ".join(parts)


class QueryMessage(models.Model):
    """One message of a query's thread: written with the transition it made, never changed."""

    query = models.ForeignKey(Query, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    text = models.TextField(blank=True, default="")
    transition = models.CharField(max_length=10, choices=QueryTransition.choices)
    state_after = models.CharField("state after", max_length=10, choices=QueryState.choices)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["query", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_transition_display()} by {self.author} at {self.created_at:%Y-%m-%d %H:%M} UTC"
