import django.db.models.functions.text
from django.db import migrations, models
from django.db.models import Count
from django.db.models.functions import Lower


def refuse_ids_differing_only_in_case(apps, schema_editor):
    """Stops with the list of record IDs to rename when existing records differ only in letter case
    (the constraint below could not be created; the database's own error would not name them)."""
    Patient = apps.get_model("registry", "Patient")
    clashes = (Patient.objects.annotate(lowered=Lower("record_id")).values("lowered")
               .annotate(records=Count("id")).filter(records__gt=1).values_list("lowered", flat=True))
    clashing = sorted(Patient.objects.annotate(lowered=Lower("record_id")).filter(lowered__in=list(clashes))
                      .values_list("record_id", flat=True))
    if clashing:
        raise RuntimeError(
            "Record IDs must be unique ignoring letter case, but these records differ only in case: "
            f"{', '.join(clashing)}. Rename (or merge) them, then run the migration again."
        )


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0009_identified_export_log'),
    ]

    operations = [
        migrations.RunPython(refuse_ids_differing_only_in_case, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='patient',
            constraint=models.UniqueConstraint(django.db.models.functions.text.Lower('record_id'), name='patient_record_id_unique_ignoring_case', violation_error_message='A record with this ID exists already (record IDs are unique in the registry, ignoring letter case).'),
        ),
    ]
