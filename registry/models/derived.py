"""What the registry derives (derivation rules, version 2), stored in tables of its own.

Written only by registry/services/derivation.py, with bulk operations; read-only everywhere else.
Every result belongs to one PatientDerivation, which records the rules version and the settings
it was derived with.
"""
from django.core.validators import RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

from registry.derive.settings import DEFAULT_STUDY_ID

# Rules §0 (v2) setting `study_id`. ADaM puts no limit on STUDYID, but it goes into USUBJID, which a
# SAS transport file (version 5) holds in at most 200 characters; 40 leaves room for any record id.
STUDY_ID_MAX_CHARACTERS = 40
STUDY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z"


class AnalysisSettings(models.Model):
    """The settings of derivation rules §0. One row (pk 1); administrators edit it in the admin.

    Changing it marks every derivation stale and re-derives them all.
    """

    data_cutoff = models.DateField(
        "data cut-off date", null=True, blank=True,
        help_text="The date the analysis looks from. Required to derive PFS and OS.",
    )
    baseline_window_days = models.PositiveIntegerField(
        default=60, help_text="A line's baseline time point may precede its start by at most this many days.")
    death_window_days = models.PositiveIntegerField(
        default=182, help_text="A death more than this many days after the last adequate assessment is censored.")
    pfs_death_is_event = models.BooleanField(
        "death without progression is a PFS event", default=True)
    lesion_progression_min_mm = models.DecimalField(
        max_digits=6, decimal_places=2, default=5,
        help_text="Growth over its own nadir that makes one target lesion 'progressing' (mm).")
    sd_min_days = models.PositiveIntegerField(
        default=42, help_text="SD or Non-CR/Non-PD counts for best response only from this many days after the line start.")
    local_therapy_window_days = models.PositiveIntegerField(
        default=60, help_text="Local therapy within this many days after a progression counts as given for it.")
    beyond_pd_min_days = models.PositiveIntegerField(
        default=30, help_text="A line that ran on more than this many days after its progression continued beyond it.")
    biopsy_lookback_days = models.PositiveIntegerField(
        default=30, help_text="A biopsy this many days before a progression scan still belongs to that progression.")
    days_per_month = models.DecimalField(
        max_digits=8, decimal_places=4, default="30.4375", help_text="Months = days / this.")
    study_id = models.CharField(
        "study identifier", max_length=STUDY_ID_MAX_CHARACTERS, default=DEFAULT_STUDY_ID,
        validators=[RegexValidator(
            STUDY_ID_PATTERN,
            "Letters, digits, '-', '_' and '.' only, starting with a letter or digit (it becomes part of USUBJID).")],
        help_text="Written as STUDYID, and in USUBJID (STUDYID-record), in the ADaM-style datasets.")
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = "analysis settings"
        verbose_name_plural = "analysis settings"

    def __str__(self) -> str:
        cutoff = f"{self.data_cutoff:%Y-%m-%d}" if self.data_cutoff else "no cut-off"
        return f"Analysis settings ({cutoff})"


class PatientDerivation(models.Model):
    """A patient's derived labels and endpoints (rules §5, §6, §7 at the index resistance)."""

    patient = models.OneToOneField("registry.Patient", on_delete=models.CASCADE, related_name="derivation")
    rules_version = models.PositiveSmallIntegerField()
    settings_snapshot = models.JSONField(help_text="The analysis settings this was derived with.")
    data_cutoff = models.DateField(null=True, blank=True)
    derived_at = models.DateTimeField()
    is_stale = models.BooleanField(
        default=False, help_text="The records or the settings changed since; a re-derivation is queued.")
    # When the results became stale (the first change since they were derived; cleared by the next
    # derivation), so that the periodic sweep can tell a derivation still on its way from one whose
    # task was lost in a crash. Null on a current result, and on one marked stale before this existed.
    stale_since = models.DateTimeField(null=True, blank=True)

    age_at_adv_dx = models.PositiveSmallIntegerField(null=True, blank=True)
    cohort = models.PositiveSmallIntegerField(null=True, blank=True, choices=[(1, "Cohort 1"), (2, "Cohort 2")])
    tki_sequence = models.CharField(max_length=200, blank=True, default="")
    index_line_no = models.PositiveIntegerField(null=True, blank=True)
    index_pd_date = models.DateField(null=True, blank=True)
    alk_mut_status_at_index = models.CharField(max_length=20, blank=True, default="")
    os_dx_date = models.DateField(null=True, blank=True)
    os_dx_days = models.IntegerField(null=True, blank=True)
    os_dx_months = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    os_dx_event = models.BooleanField(null=True, blank=True)
    os_dx_censor_reason = models.CharField(max_length=40, blank=True, default="")
    # Rules §8 (v2) `patients`: §5's date last known alive capped at the cut-off (blank: died on or
    # before it), whether an index-resistance biopsy had a compound mutation, lines started by the cut-off.
    last_known_alive_date = models.DateField(null=True, blank=True)
    compound_mutation_at_index = models.BooleanField(null=True, blank=True)
    n_lines = models.PositiveIntegerField(null=True, blank=True)
    # §0 flags for coordinators: [{"code", "message", "form", "instance"}]; `flag_codes` makes them
    # filterable (";code;code;").
    flags = models.JSONField(default=list, blank=True)
    flag_count = models.PositiveSmallIntegerField(default=0)
    flag_codes = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["cohort"]), models.Index(fields=["is_stale"]),
                   models.Index(fields=["flag_count"])]

    def __str__(self) -> str:
        return f"derivation of {self.patient_id}"


class LineDerivation(models.Model):
    """One line's progression, labels, best response, PFS and OS (rules §1, §3–§6)."""

    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="line_derivations")
    line = models.OneToOneField("registry.TreatmentLine", on_delete=models.CASCADE, related_name="derivation")
    line_no = models.PositiveIntegerField()
    tki_generation = models.PositiveSmallIntegerField(null=True, blank=True)
    age_at_start = models.PositiveSmallIntegerField(null=True, blank=True)
    histology_at_start = models.PositiveSmallIntegerField(null=True, blank=True)
    baseline_date = models.DateField(null=True, blank=True)
    subsequent_to_index = models.BooleanField(null=True, blank=True)
    # Rules §8 (v2): the first line (and the first ALK TKI line) subsequent to the index; blank in no cohort.
    first_subsequent_line = models.BooleanField(null=True, blank=True)
    first_subsequent_tki_line = models.BooleanField(null=True, blank=True)
    best_response = models.CharField(max_length=16, blank=True, default="")
    pd_date = models.DateField(null=True, blank=True)
    extent = models.CharField(max_length=10, blank=True, default="")
    n_progressing_lesions = models.PositiveSmallIntegerField(null=True, blank=True)
    involved_sites = models.CharField(max_length=60, blank=True, default="", help_text="Site codes, ';'-separated")
    cns_progression = models.BooleanField(null=True, blank=True)
    cns_only_progression = models.BooleanField(null=True, blank=True)
    symptomatic_progression = models.BooleanField(null=True, blank=True)
    symptomatic_cns_progression = models.BooleanField(null=True, blank=True)
    local_therapy_for_pd = models.BooleanField(null=True, blank=True)
    continued_beyond_pd = models.BooleanField(null=True, blank=True)
    beyond_pd_days = models.IntegerField(null=True, blank=True)
    pfs_date = models.DateField(null=True, blank=True)
    pfs_days = models.IntegerField(null=True, blank=True)
    pfs_months = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    pfs_event = models.BooleanField(null=True, blank=True)
    pfs_event_type = models.CharField(max_length=20, blank=True, default="")
    pfs_censor_reason = models.CharField(max_length=40, blank=True, default="")
    os_date = models.DateField(null=True, blank=True)
    os_days = models.IntegerField(null=True, blank=True)
    os_months = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    os_event = models.BooleanField(null=True, blank=True)
    os_censor_reason = models.CharField(max_length=40, blank=True, default="")
    # Rules §8 (v2): the record and field each endpoint's date came from (ADTTE SRCDOM, SRCVAR, SRCSEQ).
    pfs_srcdom = models.CharField(max_length=40, blank=True, default="")
    pfs_srcvar = models.CharField(max_length=40, blank=True, default="")
    pfs_srcseq = models.PositiveIntegerField(null=True, blank=True)
    os_srcdom = models.CharField(max_length=40, blank=True, default="")
    os_srcvar = models.CharField(max_length=40, blank=True, default="")
    os_srcseq = models.PositiveIntegerField(null=True, blank=True)
    # Read by the datasets `tumor_sums` (its baseline row) and `responses` (the BOR row's date), rules §8.
    baseline_sum_mm = models.DecimalField(
        max_digits=9, decimal_places=2, null=True, blank=True,
        help_text="The line's complete baseline sum of target diameters (rules §2); blank when unknown.")
    best_response_date = models.DateField(
        null=True, blank=True, help_text="The first follow-up assessment with the best response (rules §8).")

    class Meta:
        ordering = ["patient", "line_no"]
        indexes = [models.Index(fields=["extent"]), models.Index(fields=["cns_progression"])]

    def __str__(self) -> str:
        return f"line {self.line_no} derivation"


class AssessmentDerivation(models.Model):
    """The RECIST 1.1 time-point response of one assessment in one line's window (rules §2).

    An assessment on the next line's start day is in two windows, hence (assessment, line) unique.
    """

    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="assessment_derivations")
    assessment = models.ForeignKey("registry.TumorAssessment", on_delete=models.CASCADE, related_name="derivations")
    line = models.ForeignKey("registry.TreatmentLine", on_delete=models.CASCADE, related_name="assessment_derivations")
    line_no = models.PositiveIntegerField()
    ta_date = models.DateField()
    target_sum_mm = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    pct_change_baseline = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    pct_change_nadir = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    target_response = models.CharField(max_length=16, blank=True, default="")
    nontarget_response = models.CharField(max_length=16, blank=True, default="")
    # None: unknown, a missing-data code in ta_new_lesion (rules §0 v2).
    new_lesions = models.BooleanField(null=True, default=False)
    overall_response = models.CharField(max_length=16)
    response_source = models.CharField(max_length=10)
    discrepancy = models.BooleanField(null=True, blank=True)
    nadir_mm = models.DecimalField(
        max_digits=9, decimal_places=2, null=True, blank=True,
        help_text="The nadir pct_change_nadir is measured from (rules §2); blank without a baseline sum.")

    class Meta:
        ordering = ["patient", "line_no", "ta_date"]
        constraints = [models.UniqueConstraint(fields=["assessment", "line"], name="assessment_derivation_per_line")]

    def __str__(self) -> str:
        return f"{self.ta_date:%Y-%m-%d} line {self.line_no}: {self.overall_response}"


class BiopsyDerivation(models.Model):
    """A biopsy's phase and resistance mechanism (rules §7)."""

    patient = models.ForeignKey("registry.Patient", on_delete=models.CASCADE, related_name="biopsy_derivations")
    biopsy = models.OneToOneField("registry.Biopsy", on_delete=models.CASCADE, related_name="derivation")
    bx_date = models.DateField()
    phase = models.CharField(max_length=20, blank=True, default="")
    alk_kd_mutations = models.CharField(max_length=200, null=True, blank=True)
    alk_compound = models.BooleanField(null=True, blank=True)
    g1202r = models.BooleanField(null=True, blank=True)
    alk_independent = models.CharField(max_length=200, null=True, blank=True)
    transformation = models.CharField(max_length=20, blank=True, default="")
    mechanism_category = models.CharField(max_length=30)
    at_index_resistance = models.BooleanField(
        null=True, blank=True,
        help_text="Taken at the index resistance (rules §7), so counted in the patient's ALK status; blank in no cohort.")

    class Meta:
        ordering = ["patient", "bx_date"]

    def __str__(self) -> str:
        return f"biopsy {self.bx_date:%Y-%m-%d}: {self.mechanism_category}"
