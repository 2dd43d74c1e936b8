"""Saved reports (REDCap's "My Reports"): a set of the data dictionary's fields, an optional
filterLogic and a sort, saved by a user for themselves or shared with everyone who reads records.

A report stores its definition only, never rows: its rows are read live, through the same access and
de-identification rules as every export (registry/selectors/saved_reports.py). Which names are valid
(dictionary fields, a filter the parser reads, a sort among the report's fields) is checked by the
services (registry/services/saved_reports.py), which know the dictionary; the model keeps what a
row alone can say.
"""
from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class SortDirection(models.TextChoices):
    ASCENDING = "asc", "Ascending"
    DESCENDING = "desc", "Descending"


class SavedReport(models.Model):
    name = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_reports")
    shared = models.BooleanField(
        default=False, help_text="Shared: every user who reads records sees it (each only the rows of their "
                                 "own sites). Not shared: its owner only.")
    fields = models.JSONField(
        default=list, help_text="The data dictionary's field names (a form's status as <form>_complete), "
                                "exported in the dictionary's order after record_id.")
    filter_logic = models.TextField(
        "filter", blank=True, default="", help_text="REDCap filterLogic, e.g. [sex] = \"2\" and [line_drug] = \"2\". "
                                                    "Blank: every record the reader sees.")
    sort_field = models.CharField(
        max_length=100, blank=True, default="", help_text="One of the report's fields, or record_id; blank: "
                                                          "record order.")
    sort_direction = models.CharField(max_length=4, choices=SortDirection.choices, default=SortDirection.ASCENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(name=""), name="saved_report_has_a_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({'shared' if self.shared else 'private'}, {self.owner})"
