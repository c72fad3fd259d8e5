# The insights app: Attribution (moved from experiments, keeping its rows), Attack and Sweep.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("experiments", "0002_attribution"),
        ("jobs", "0001_initial"),
        ("modelzoo", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Attribution",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("target", models.CharField(max_length=20)),
                        ("maps", models.FileField(blank=True, null=True, upload_to="attributions/")),
                        ("summary", models.JSONField(blank=True, default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "analysis",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="attributions",
                                to="experiments.analysis",
                            ),
                        ),
                        (
                            "job",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="jobs.job"
                            ),
                        ),
                    ],
                    options={
                        "db_table": "experiments_attribution",
                        "constraints": [
                            models.UniqueConstraint(fields=("analysis", "target"), name="one_attribution_per_target")
                        ],
                    },
                ),
            ],
        ),
        # Now the table gets the insights app's name.
        migrations.AlterModelTable(name="attribution", table=None),
        migrations.CreateModel(
            name="Attack",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "target",
                    models.CharField(blank=True, help_text="The digit aimed at; empty for any other.", max_length=20),
                ),
                ("snr_db", models.FloatField()),
                ("steps", models.PositiveIntegerField()),
                ("seed", models.PositiveIntegerField(default=0)),
                ("step", models.JSONField(default=dict)),
                ("result", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "adversarial",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="made_by_attacks",
                        to="experiments.recording",
                    ),
                ),
                (
                    "experiment",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="experiments.experiment",
                    ),
                ),
                ("job", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="jobs.job")),
                (
                    "model_version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="modelzoo.modelversion"
                    ),
                ),
                (
                    "recording",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="attacks", to="experiments.recording"
                    ),
                ),
            ],
            options={"ordering": ["-created_at", "-id"]},
        ),
        migrations.CreateModel(
            name="Sweep",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("op", models.CharField(max_length=30)),
                ("values", models.JSONField(default=list)),
                ("result", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("job", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="jobs.job")),
                (
                    "model_version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="modelzoo.modelversion"
                    ),
                ),
                (
                    "recording",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="sweeps", to="experiments.recording"
                    ),
                ),
            ],
            options={"ordering": ["-created_at", "-id"]},
        ),
    ]
