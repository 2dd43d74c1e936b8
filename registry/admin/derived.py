"""Derived results and data-quality flags in the admin: read-only, for coordinators and investigators.

What the registry derives is stored by registry/services/derivation.py and only read here: the
patient page shows it (and the patient's §0 data-quality flags) below the case report form, the
"Data-quality flags" page lists the flags of every patient the user may see, and the patient list
can be narrowed by derived labels. Analysis settings are changed only through
`analysis_settings_update`, which re-derives everything.

Display values are put together here, in Python, so the templates only print them.
"""
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.template.response import TemplateResponse
from django.urls import path, reverse
from simple_history.admin import SimpleHistoryAdmin

from registry.derive import quality
from registry.models import (
    AnalysisSettings, AssessmentDerivation, LineDerivation, PatientDerivation,
)
from registry.records.instruments import INSTRUMENTS
from registry.selectors.access import restrict_to_visible, visible_sites
from registry.services.derivation import analysis_settings_update

from .mixins import (
    ChoiceListFilter, NulParametersRefusedMixin, ReadOnlyHistoryMixin, SettingsRowAdminMixin, UnseenIsMissingMixin,
)

NOT_DERIVED_YET = "not derived yet"
BLANK = "—"
DATA_QUALITY_PAGE_SIZE = 100

# §0 flag codes as coordinators read them (kept beside the codes, for the workspace's worklist too).
FLAG_LABELS = quality.FLAG_LABELS
# Forms stored on the patient row itself: their flags point at the patient page, not a changelist.
PATIENT_PAGE_FORMS = {"enrollment": "Enrollment", "vital_status": "Vital status"}


# ---------------------------------------------------------------- values written for people


def yes_no(value: bool | None, *, blank: str = "unknown") -> str:
    """§0 "unknown is not no": a blank boolean label is shown as unknown, never as no."""
    if value is None:
        return blank
    return "yes" if value else "no"


def iso(day: date | None) -> str:
    return day.isoformat() if day is not None else BLANK


def months(value: Decimal | None) -> str:
    # Stored unrounded (§0); one decimal is enough to read and rounding half up is what people expect.
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)) if value is not None else BLANK


def time_to_event(days: int | None, month_count: Decimal | None, event: bool | None, event_type: str,
                  censor_reason: str) -> str:
    """"412 days (13.5 months), event: progression" or "… censored: new therapy"."""
    if days is None:
        return BLANK
    outcome = f"event: {event_type or 'yes'}" if event else f"censored: {censor_reason or 'reason not stored'}"
    return f"{days} days ({months(month_count)} months), {outcome.replace('_', ' ')}"


def timestamp(moment: datetime | None) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if moment is not None else BLANK


# ---------------------------------------------------------------- where a flag is corrected


def vital_status_anchor(fieldset_names: list[str]) -> str:
    """The id Django gives a fieldset's heading on the change page (admin/includes/fieldset.html)."""
    for index, name in enumerate(fieldset_names):
        if name == "Vital status":
            return f"#fieldset-0-{index}-heading"
    return ""


def flag_target(form: str, patient_id: int, patient_page_anchor: str) -> tuple[str, str]:
    """The instrument's name and the page where the flagged record is corrected.

    Repeating instruments: their changelist narrowed to the patient. Forms on the patient row
    (enrollment, vital status): the patient's change page.
    """
    instrument = INSTRUMENTS.get(form)
    if instrument is not None and instrument.repeating:
        url = reverse(f"admin:registry_{instrument.model._meta.model_name}_changelist")
        return str(instrument.model._meta.verbose_name), f"{url}?{urlencode({'patient__id__exact': patient_id})}"
    url = reverse("admin:registry_patient_change", args=[patient_id])
    anchor = patient_page_anchor if form == "vital_status" else ""
    return PATIENT_PAGE_FORMS.get(form, form.replace("_", " ")), url + anchor


@dataclass(frozen=True)
class FlagRow:
    code: str
    label: str
    message: str
    instrument: str
    record: str  # which record of the instrument, as the derivation names it ("line 2", a date ...)
    correct_url: str
    site_code: str = ""
    record_id: str = ""
    patient_url: str = ""
    stale: bool = False


def flag_rows(derivation: PatientDerivation, patient, patient_page_anchor: str, *, site_code: str = "",
              code: str | None = None) -> list[FlagRow]:
    """The flags of `patient`'s derivation as rows; `code` keeps only that flag."""
    rows = []
    for flag in derivation.flags:
        if code is not None and flag.get("code") != code:
            continue
        instrument, correct_url = flag_target(flag.get("form", ""), patient.pk, patient_page_anchor)
        rows.append(FlagRow(
            code=flag.get("code", ""), label=FLAG_LABELS.get(flag.get("code"), flag.get("code", "")),
            message=flag.get("message", ""), instrument=instrument, record=flag.get("instance", ""),
            correct_url=correct_url, site_code=site_code, record_id=patient.record_id,
            patient_url=reverse("admin:registry_patient_change", args=[patient.pk]), stale=derivation.is_stale,
        ))
    return rows


# ---------------------------------------------------------------- the patient page


@dataclass(frozen=True)
class LineSummary:
    line: str  # "Line 2: Alectinib"
    timeline: str  # "2020-06-08 PR (derived) · 2020-09-01 SD (reported)"
    baseline_date: str
    best_response: str
    progression: str  # the pd_date, or "no progression"
    labels: tuple[tuple[str, str], ...]  # (label, value) of §3, empty without a progression
    pfs: str
    os: str


@dataclass(frozen=True)
class BiopsySummary:
    bx_date: str
    phase: str
    mechanism: str
    alk_kd_mutations: str
    alk_independent: str
    transformation: str


@dataclass(frozen=True)
class PatientSummary:
    derived: bool
    status: tuple[tuple[str, str], ...]  # rules version, cut-off, derived at, stale
    results: tuple[tuple[str, str], ...]  # cohort, sequence, index progression, ALK status, OS
    lines: tuple[LineSummary, ...]
    biopsies: tuple[BiopsySummary, ...]
    flags: tuple[FlagRow, ...]


def response_timeline(assessments: list[AssessmentDerivation]) -> str:
    return " · ".join(
        f"{a.ta_date.isoformat()} {a.overall_response} ({a.response_source})" for a in assessments
    ) or "no assessment in the line's window"


def progression_labels(row: LineDerivation) -> tuple[tuple[str, str], ...]:
    if row.pd_date is None:
        return ()  # §3: a line without a progression has every label blank
    n_lesions = str(row.n_progressing_lesions) if row.n_progressing_lesions is not None else "unknown"
    beyond = yes_no(row.continued_beyond_pd)
    if row.continued_beyond_pd and row.beyond_pd_days is not None:
        beyond = f"yes, {row.beyond_pd_days} days"
    return (
        ("extent", row.extent or "unknown"),
        ("progressing lesions", n_lesions),
        ("CNS", yes_no(row.cns_progression)),
        ("CNS only", yes_no(row.cns_only_progression)),
        ("symptomatic", yes_no(row.symptomatic_progression)),
        ("symptomatic CNS", yes_no(row.symptomatic_cns_progression)),
        ("local therapy for PD", yes_no(row.local_therapy_for_pd)),
        ("continued beyond PD", beyond),
    )


def line_summary(row: LineDerivation, assessments: list[AssessmentDerivation]) -> LineSummary:
    line = row.line
    return LineSummary(
        line=f"Line {row.line_no}: {line.get_line_drug_display()}",
        timeline=response_timeline(assessments),
        baseline_date=iso(row.baseline_date),
        best_response=row.best_response or BLANK,
        progression=iso(row.pd_date) if row.pd_date else "no progression",
        labels=progression_labels(row),
        pfs=time_to_event(row.pfs_days, row.pfs_months, row.pfs_event, row.pfs_event_type, row.pfs_censor_reason),
        os=time_to_event(row.os_days, row.os_months, row.os_event, "death", row.os_censor_reason),
    )


def patient_summary(patient, patient_page_anchor: str) -> PatientSummary:
    """What was derived for one patient, written for the patient page (4 queries; 1 if never derived)."""
    derivation = PatientDerivation.objects.filter(patient=patient).first()
    if derivation is None:
        return PatientSummary(derived=False, status=(), results=(), lines=(), biopsies=(), flags=())
    assessments_by_line: dict[int, list[AssessmentDerivation]] = {}
    # One query for every line's time points, grouped here, rather than one query per line.
    for assessment in patient.assessment_derivations.order_by("line_no", "ta_date"):
        assessments_by_line.setdefault(assessment.line_id, []).append(assessment)
    lines = tuple(
        line_summary(row, assessments_by_line.get(row.line_id, []))
        for row in patient.line_derivations.select_related("line").order_by("line_no")
    )
    biopsies = tuple(
        BiopsySummary(
            bx_date=iso(row.bx_date), phase=row.phase or BLANK, mechanism=row.mechanism_category.replace("_", " "),
            alk_kd_mutations=row.alk_kd_mutations or BLANK, alk_independent=row.alk_independent or BLANK,
            transformation=row.transformation.replace("_", " ") or BLANK,
        )
        for row in patient.biopsy_derivations.order_by("bx_date")
    )
    stale = "yes: the records or settings changed; a re-derivation is queued" if derivation.is_stale else "no"
    return PatientSummary(
        derived=True,
        status=(
            ("rules version", str(derivation.rules_version)),
            ("data cut-off", iso(derivation.data_cutoff)),
            ("derived at", timestamp(derivation.derived_at)),
            ("stale", stale),
        ),
        results=(
            ("cohort", derivation.get_cohort_display() if derivation.cohort else "none"),
            ("TKI sequence", derivation.tki_sequence or BLANK),
            ("index progression date", iso(derivation.index_pd_date)),
            ("ALK mutation status at index", derivation.alk_mut_status_at_index.replace("_", " ") or BLANK),
            ("OS from diagnosis", time_to_event(
                derivation.os_dx_days, derivation.os_dx_months, derivation.os_dx_event, "death",
                derivation.os_dx_censor_reason,
            )),
        ),
        lines=lines,
        biopsies=biopsies,
        flags=tuple(flag_rows(derivation, patient, patient_page_anchor)),
    )


class DerivedResultsMixin:
    """Adds the patient's derived results and data-quality flags to its change page (read-only)."""

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not add:
            names = [name for name, _options in self.get_fieldsets(request, obj)]
            context["derived"] = patient_summary(obj, vital_status_anchor(names))
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)


# ---------------------------------------------------------------- the site-wide flags page


def _query_string(**params) -> str:
    kept = {name: value for name, value in params.items() if value}
    return f"?{urlencode(kept)}" if kept else "?"


@dataclass(frozen=True)
class Choice:
    label: str
    url: str
    selected: bool


class DataQualityMixin:
    """The "Data-quality flags" page: every flag of every patient the user may see, with where to fix it."""

    data_quality_template = "admin/registry/patient/data_quality.html"

    def get_urls(self):
        return [
            path("data-quality/", self.admin_site.admin_view(self.data_quality_view),
                 name="registry_patient_data_quality"),
            *super().get_urls(),
        ]

    def data_quality_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        site_value, code_value = request.GET.get("site", ""), request.GET.get("code", "")
        sites = list(visible_sites(request.user))
        derivations = restrict_to_visible(
            PatientDerivation.objects.filter(flag_count__gt=0), request.user, site_path="patient__site_id",
        ).select_related("patient__site").order_by("patient__site__code", "patient__record_id")
        if site_value in {str(site.id) for site in sites}:
            derivations = derivations.filter(patient__site_id=int(site_value))
        elif site_value:
            # Another site's id, an id that does not exist (however large) and text all list nothing,
            # without asking the database.
            derivations = derivations.none()
        if code_value in FLAG_LABELS:
            derivations = derivations.filter(flag_codes__contains=f";{code_value};")
        elif code_value:
            derivations = derivations.none()  # a code the page does not offer flags nothing
        anchor = vital_status_anchor([name for name, _options in self.fieldsets])
        rows = [
            row for derivation in derivations
            for row in flag_rows(derivation, derivation.patient, anchor, site_code=derivation.patient.site.code,
                                 code=code_value or None)
        ]
        page = Paginator(rows, DATA_QUALITY_PAGE_SIZE).get_page(request.GET.get("page"))
        site_choices = [Choice("All", _query_string(code=code_value), not site_value)] + [
            Choice(site.code, _query_string(site=site.id, code=code_value), site_value == str(site.id))
            for site in sites
        ]
        code_choices = [Choice("All", _query_string(site=site_value), not code_value)] + [
            Choice(label, _query_string(site=site_value, code=code), code_value == code)
            for code, label in FLAG_LABELS.items()
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Data-quality flags",
            "page_obj": page,
            "site_choices": site_choices,
            "code_choices": code_choices,
            "previous_url": _query_string(site=site_value, code=code_value, page=page.number - 1)
            if page.has_previous() else "",
            "next_url": _query_string(site=site_value, code=code_value, page=page.number + 1)
            if page.has_next() else "",
        }
        return TemplateResponse(request, self.data_quality_template, context)


# ---------------------------------------------------------------- patient changelist filters


class CohortFilter(ChoiceListFilter):
    title = "cohort"
    parameter_name = "cohort"

    def lookups(self, request, model_admin):
        return [("1", "Cohort 1"), ("2", "Cohort 2"), ("none", "No cohort")]

    def filter_by(self, queryset, value):
        if value == "none":
            # Derived and in no cohort; a patient never derived is under "derivation: not derived yet".
            return queryset.filter(derivation__isnull=False, derivation__cohort__isnull=True)
        return queryset.filter(derivation__cohort=int(value))


def _any_line(**conditions) -> Exists:
    # A subquery, not a join: joining line derivations would multiply the rows counted by the
    # patient list's lines-of-therapy annotation.
    return Exists(LineDerivation.objects.filter(patient=OuterRef("pk"), **conditions))


class ProgressionExtentFilter(ChoiceListFilter):
    title = "extent of any line's progression"
    parameter_name = "extent"

    def lookups(self, request, model_admin):
        return [("oligo", "Oligo"), ("extensive", "Extensive"), ("unknown", "Unknown")]

    def filter_by(self, queryset, value):
        return queryset.filter(_any_line(extent=value))


class CnsProgressionFilter(ChoiceListFilter):
    title = "CNS progression"
    parameter_name = "cns_progression"

    def lookups(self, request, model_admin):
        return [("yes", "On any line"), ("no", "On no line")]

    def filter_by(self, queryset, value):
        if value == "yes":
            return queryset.filter(_any_line(cns_progression=True))
        return queryset.filter(derivation__isnull=False).exclude(_any_line(cns_progression=True))


class DataQualityFlagsFilter(ChoiceListFilter):
    title = "data-quality flags"
    parameter_name = "flags"

    def lookups(self, request, model_admin):
        return [("yes", "Has flags"), ("no", "No flags")]

    def filter_by(self, queryset, value):
        if value == "yes":
            return queryset.filter(derivation__flag_count__gt=0)
        return queryset.filter(derivation__flag_count=0)


class DerivationStateFilter(ChoiceListFilter):
    title = "derivation"
    parameter_name = "derivation"

    def lookups(self, request, model_admin):
        return [("stale", "Stale (re-derivation queued)"), ("current", "Up to date"),
                ("none", NOT_DERIVED_YET.capitalize())]

    def filter_by(self, queryset, value):
        if value == "none":
            return queryset.filter(derivation__isnull=True)
        return queryset.filter(derivation__is_stale=value == "stale")


DERIVED_LIST_FILTERS = (
    CohortFilter, ProgressionExtentFilter, CnsProgressionFilter, DataQualityFlagsFilter, DerivationStateFilter,
)


# ---------------------------------------------------------------- analysis settings


@admin.register(AnalysisSettings)
class AnalysisSettingsAdmin(SettingsRowAdminMixin, ReadOnlyHistoryMixin, NulParametersRefusedMixin, UnseenIsMissingMixin,
                            SimpleHistoryAdmin):
    """The one row of settings (rules §0). Anyone with a registry role reads it; administrators change it.

    Saving goes through `analysis_settings_update`, which validates, keeps the history, marks every
    derivation stale and re-derives them all. The history pages are read-only (ReadOnlyHistoryMixin):
    going back to earlier settings is a change made on the change page, by an administrator.
    """

    list_display = ("__str__", "data_cutoff", "updated_at")
    settings_model = AnalysisSettings
    settings_update = staticmethod(analysis_settings_update)
    readonly_fields = ("updated_at",)
