# Attacks and sweeps used to live only as JSON in their job's payload and result: give each
# one its record, so their pages, retries and the API find them as before.

from django.db import migrations


def forwards(apps, schema_editor):
    Job = apps.get_model("jobs", "Job")
    Attack = apps.get_model("insights", "Attack")
    Sweep = apps.get_model("insights", "Sweep")
    Recording = apps.get_model("experiments", "Recording")
    Experiment = apps.get_model("experiments", "Experiment")
    ModelVersion = apps.get_model("modelzoo", "ModelVersion")
    for job in Job.objects.filter(kind="attack_run"):
        step = job.payload.get("step") or {}
        params = step.get("params") or {}
        version = ModelVersion.objects.filter(pk=params.get("model_version")).first()
        recording = Recording.objects.filter(pk=job.payload.get("recording")).first()
        if version is None or recording is None:
            continue
        target = params.get("target", -1)
        result = dict(job.result or {})
        Attack.objects.create(
            recording=recording,
            model_version=version,
            job=job,
            target=version.labels[target] if 0 <= target < len(version.labels) else "",
            snr_db=params.get("snr_db", 30.0),
            steps=params.get("steps", 50),
            seed=params.get("seed", 0),
            step=step,
            result={k: v for k, v in result.items() if k not in ("recording", "parent", "experiment")},
            adversarial=Recording.objects.filter(pk=result.get("recording")).first(),
            experiment=Experiment.objects.filter(pk=result.get("experiment")).first(),
        )
    for job in Job.objects.filter(kind="sweep_run"):
        version = ModelVersion.objects.filter(pk=job.payload.get("model_version")).first()
        recording = Recording.objects.filter(pk=job.payload.get("recording")).first()
        if version is None or recording is None:
            continue
        result = {k: v for k, v in (job.result or {}).items() if k not in ("recording", "model_version")}
        Sweep.objects.create(
            recording=recording,
            model_version=version,
            job=job,
            op=job.payload.get("op", ""),
            values=job.payload.get("values", []),
            result=result,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0001_initial"),
        ("experiments", "0003_attribution_moves_to_insights"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
