from django.db import models
from simple_history.models import HistoricalRecords


class Site(models.Model):
    """A participating hospital: REDCap's Data Access Group. Every patient belongs to one."""

    code = models.SlugField(
        "site code", max_length=30, unique=True,
        help_text="Short code used in files and URLs, e.g. 'shanghai-chest'.",
    )
    name = models.CharField("hospital name", max_length=200)
    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"
