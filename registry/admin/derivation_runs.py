"""Full derivations and their progress, read-only: administrators see each run (what started it, who,
how many of its chunks and patients are done or failed) and its chunks with their errors.

Runs and chunks are written only by registry/services/derivation_runs.py; a failed run is retried
with `manage.py derive --retry-run RUN_ID`, which derives only the chunks not done.
"""
from django.contrib import admin

from registry.models import DerivationChunk, DerivationRun

from .mixins import AdministratorOnlyMixin, ReadOnlyMixin

REFRESH_SECONDS = 5


class DerivationChunkInline(ReadOnlyMixin, admin.TabularInline):
    model = DerivationChunk
    fields = ("number", "status", "patient_count", "attempts", "started_at", "finished_at", "lines", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description="patients")
    def patient_count(self, chunk: DerivationChunk) -> int:
        return len(chunk.patient_ids)

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("number")


@admin.register(DerivationRun)
class DerivationRunAdmin(ReadOnlyMixin, AdministratorOnlyMixin, admin.ModelAdmin):
    list_display = ("id", "started_at", "get_trigger_display", "requested_by", "progress", "failed", "state",
                    "finished_at")
    list_select_related = ("requested_by",)
    list_filter = ("trigger",)
    fields = ("trigger", "reason", "requested_by", "rules_version", "settings_snapshot", "chunk_patients",
              "total_patients", "total_chunks", "progress", "failed", "state", "started_at", "finished_at", "task_id")
    readonly_fields = fields
    inlines = (DerivationChunkInline,)
    change_list_template = "admin/registry/derivationrun/change_list.html"

    @admin.display(description="trigger")
    def get_trigger_display(self, run: DerivationRun) -> str:
        return run.get_trigger_display()

    @admin.display(description="progress")
    def progress(self, run: DerivationRun) -> str:
        return (f"{run.patients_done} of {run.total_patients} patients, "
                f"{run.chunks_done} of {run.total_chunks} chunks")

    @admin.display(description="failed chunks")
    def failed(self, run: DerivationRun) -> str:
        if not run.chunks_failed:
            return "none"
        return f"{run.chunks_failed} (retry: manage.py derive --retry-run {run.pk})"

    @admin.display(description="state")
    def state(self, run: DerivationRun) -> str:
        if not run.finished:
            return "running"
        return "finished with failed chunks" if run.chunks_failed else "done"

    def changelist_view(self, request, extra_context=None):
        # The list reloads itself while a run is going, like the export jobs' list.
        running = DerivationRun.objects.filter(finished_at__isnull=True).exists()
        return super().changelist_view(request, {
            **(extra_context or {}), "refresh_seconds": REFRESH_SECONDS if running else None,
        })
