from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0003_export_jobs_and_identified_export_grant"),
    ]

    operations = [
        migrations.AddField(
            model_name="biopsyderivation",
            name="at_index_resistance",
            field=models.BooleanField(
                blank=True,
                help_text="Taken at the index resistance (rules §7), so counted in the patient's ALK status; blank in no cohort.",
                null=True,
            ),
        ),
    ]
