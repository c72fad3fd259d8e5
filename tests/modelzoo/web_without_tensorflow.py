"""Run by test_web_tier_without_tensorflow in a fresh process: serve every kind of page with TensorFlow blocked.

Any import of tensorflow or keras raises, so a page that needs them answers 500 and
the script fails; at the end neither may be in sys.modules.
"""

import importlib.abc
import io
import os
import sys

import numpy as np


class BlockTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"tensorflow", "keras", "tf_keras"}:
            raise ImportError(f"the web tier imported {name}")
        return None


sys.meta_path.insert(0, BlockTensorFlow())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ddevis_site.settings")

import django  # noqa: E402

django.setup()

import soundfile as sf  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from dsp.features import prepare  # noqa: E402
from dsp.params import FeatureParams  # noqa: E402
from experiments.models import Analysis  # noqa: E402
from jobs.models import Job  # noqa: E402
from modelzoo.cache import AnalysisCache, layer_statistics, pack  # noqa: E402
from modelzoo.models import ModelVersion  # noqa: E402
from modelzoo.services import BUNDLED_DIR, BUNDLED_NAME, read_sidecar  # noqa: E402

call_command("migrate", verbosity=0)
sidecar = read_sidecar(BUNDLED_DIR / f"{BUNDLED_NAME}.keras")
params = FeatureParams.from_dict(sidecar["feature_params"])
shapes = {
    "conv1": (16, params.n_freq, params.n_frames),
    "conv2": (16, params.n_freq // 2, params.n_frames // 2),
    "conv3": (32, params.n_freq // 4, params.n_frames // 4),
}
version = ModelVersion(
    name="web-check",
    feature_params=params.to_dict(),
    labels=sidecar["labels"],
    status="valid",
    is_active=True,
    sha256="0" * 64,
    layers=[
        {
            "name": n,
            "type": "Conv2D",
            "filters": s[0],
            "kernel_size": [3, 3],
            "output_shape": [s[1], s[2], s[0]],
            "params": 1,
        }
        for n, s in shapes.items()
    ],
    weight_histograms=[
        {
            "layer": "conv1",
            "weight": "kernel",
            "shape": [7, 7, 1, 16],
            "counts": [1] * 40,
            "edges": list(np.linspace(-1, 1, 41)),
            "mean": 0,
            "std": 1,
            "min": -1,
            "max": 1,
            "kernels": np.zeros((16, 7, 7)).tolist(),
        }
    ],
)
version.file.save("web-check.keras", ContentFile(b"not loaded by the web tier"), save=False)
version.save()
user = User.objects.create_user("webcheck", password="x")
client = Client(HTTP_HOST="localhost")
client.force_login(user)

t = np.arange(8000) / 8000
buffer = io.BytesIO()
sf.write(buffer, (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 8000, format="WAV")
buffer.name = "tone.wav"
buffer.seek(0)
response = client.post("/recordings/new/", {"file": buffer, "title": "tone"})
assert response.status_code == 302, response.content.decode().split("data-error-message")[-1][:300]
recording_url = response.url
page = client.get(recording_url)
assert page.status_code == 200
assert b'data-status="pending"' in page.content, "the queued analysis should be pending (no worker here)"

# What a worker would have stored, made without TensorFlow.
analysis = Analysis.objects.get()
prepared = prepare(*sf.read(io.BytesIO(buffer.getvalue()), dtype="float32")[::-1][::-1], params, allow_silent=True)
rng = np.random.default_rng(0)
activations = {n: np.maximum(rng.standard_normal(s), 0).astype(np.float16) for n, s in shapes.items()}
analysis.activations.save(
    "a.npz",
    ContentFile(pack(AnalysisCache(prepared.waveform, prepared.stft, prepared.features, activations))),
    save=False,
)
analysis.layers = [
    {"name": n, "filters": a.shape[0], "shape": [a.shape[1], a.shape[2], a.shape[0]], **layer_statistics(a)}
    for n, a in activations.items()
]
analysis.probabilities = {label: 0.1 for label in sidecar["labels"]}
analysis.predicted_label = "0"
analysis.save()
Job.objects.filter(pk=analysis.job_id).update(status="done", progress=100)

recording_id = analysis.recording_id
# The model workshop: a design queued for training (no worker here), its pages and API.
design = {"name": "variant", "dense": 64, "dropout": 0.2, "learning_rate": 0.002, "epochs": 2, "seed": 0}
for n, (filters, kernel) in enumerate(((8, 5), (8, 3), (16, 3)), start=1):
    design |= {f"filters_{n}": filters, f"kernels_{n}": kernel, f"pools_{n}": 2}
response = client.post("/workshop/new/", design)
assert response.status_code == 302, f"the workshop answered {response.status_code}"
training_url = response.url
training_id = training_url.rstrip("/").rsplit("/", 1)[-1]
urls = [
    "/workshop/",
    "/workshop/new/",
    "/workshop/voices/",
    training_url,
    f"/api/trainings/{training_id}/",
    "/api/trainings/",
    "/",
    "/recordings/",
    "/recordings/new/",
    recording_url,
    f"/recordings/{recording_id}/audio.wav",
    f"/recordings/{recording_id}/spectrogram.png",
    f"/recordings/{recording_id}/original/",
    f"/analyses/{analysis.pk}/explorer/",
    f"/analyses/{analysis.pk}/explorer/?tab=overview",
    f"/analyses/{analysis.pk}/explorer/?tab=input",
    f"/analyses/{analysis.pk}/explorer/?tab=weights",
    f"/analyses/{analysis.pk}/explorer/?tab=model",
    f"/analyses/{analysis.pk}/input.png",
    f"/analyses/{analysis.pk}/input.wav",
    f"/analyses/{analysis.pk}/layers/conv2/3/",
    f"/analyses/{analysis.pk}/layers/conv2/3.png",
    f"/analyses/{analysis.pk}/layers/conv3/31/zoom.png",
    f"/analyses/{analysis.pk}/layers/conv1/0.wav",
    f"/analyses/{analysis.pk}/layers/conv1/0.wav?method=griffinlim",
    "/models/",
    f"/models/{version.pk}/",
    f"/models/{version.pk}/kernels.png",
    "/api/recordings/",
    f"/api/recordings/{recording_id}/",
    f"/api/analyses/{analysis.pk}/",
    "/api/models/",
    f"/api/models/{version.pk}/",
    "/api/schema/",
    "/live/",
    "/live/?classroom=1",
    f"/live/frozen/{recording_id}/?layer=conv2&filter=3",
]
for url in urls:
    response = client.get(url)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
response = client.get("/workshop/new/", design | {"kernels_1": 9}, headers={"HX-Request": "true"})
assert response.status_code == 200 and b"data-parameters" in response.content, "the design's live summary"
response = client.post(f"/recordings/{recording_id}/derive/", {"op": "reverse"})
assert response.status_code == 302, f"derive answered {response.status_code}"
response = client.post(f"/recordings/{recording_id}/preview/", {"op": "pitch_shift", "param_semitones": "3"})
assert response.status_code == 200, f"preview answered {response.status_code}"

# A live window: decoded and checked here, answered by the engine process (none runs here: a 503).
window = io.BytesIO()
sf.write(window, (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 8000, format="WAV")
response = client.post("/api/live/", data=window.getvalue(), content_type="audio/wav")
assert response.status_code == 503, f"live answered {response.status_code}"
response = client.post("/live/freeze/", {"file": io.BytesIO(window.getvalue()), "model_version": version.pk})
assert response.status_code == 302, f"freeze answered {response.status_code}"

leaked = sorted(name for name in sys.modules if name.split(".")[0] in {"tensorflow", "keras"})
assert not leaked, f"the web tier imported {leaked}"
print(f"OK: {len(urls) + 4} web requests, no TensorFlow")
