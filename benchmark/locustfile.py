"""A load test with Locust: students signing in, adding clips, editing them, analysing, exploring and comparing.

    .venv/bin/locust -f benchmark/locustfile.py --headless -u 50 -r 5 -t 60s --host http://127.0.0.1:8000

Run it on the machine of the site, with the same settings (DATABASE_URL, DDEVIS_DATA_DIR): before the
test it creates the accounts `load-0` … `load-N` (one password hash shared by all, so preparing them is
quick) and deletes what the previous run left. Each simulated student signs in through the login
form as a browser does (session cookie, CSRF token) and then, with 5-15 s of looking and listening
between steps (`LOAD_THINK_S=1-3` for the hurried pace of earlier runs, which saturates two cores):
uploads a sample clip, derives an edit, asks for its analysis, opens the lab page, polls the analysis
like the page does, loads the first layer's filter images and a few filter sounds; now and then
compares two of its clips on the comparison page, or signs out and in again. A failed analysis, a
5xx, a reset connection or an analysis not done within 60 s counts as a failure.
"""

import os
import random
import re
import sys
import time
import uuid
from pathlib import Path

from locust import FastHttpUser, between, events, task

ROOT = Path(__file__).resolve().parents[1]
USERS = int(os.environ.get("LOAD_USERS", "50"))
PASSWORD = os.environ.get("LOAD_PASSWORD", "load-test-" + uuid.uuid4().hex[:12])
CLIPS = sorted((ROOT / "modelzoo" / "samples").glob("*.wav"))
EDITS = [
    {"op": "gain", "params": {"db": -6}},
    {"op": "reverse", "params": {}},
    {"op": "fade", "params": {"fade_in": 0.05, "fade_out": 0.05}},
    {"op": "add_noise", "params": {"snr_db": 20, "seed": 1}},
]
THINK_S = tuple(float(s) for s in os.environ.get("LOAD_THINK_S", "5-15").split("-", 1))
_next_user = iter(range(10**9))


def _django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ddevis_site.settings")
    import django

    django.setup()


@events.test_start.add_listener
def _prepare_accounts(environment, **kwargs) -> None:
    """Create (or reset) the load-test accounts and delete what a previous run left."""
    _django()
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User

    from accounts.roles import STUDENT, add_to_role

    shared_hash = make_password(PASSWORD)
    for n in range(USERS):
        user, _ = User.objects.get_or_create(username=f"load-{n}")
        User.objects.filter(pk=user.pk).update(password=shared_hash)
        add_to_role(user, STUDENT)
        _delete_recordings(user)


@events.test_stop.add_listener
def _clean_up(environment, **kwargs) -> None:
    from django.contrib.auth.models import User

    for user in User.objects.filter(username__startswith="load-"):
        _delete_recordings(user)


def _delete_recordings(user) -> None:
    user.experiments.all().delete()
    for recording in user.recordings.order_by("-pk"):
        for analysis in recording.analyses.all():
            if analysis.activations:
                analysis.activations.delete(save=False)
        recording.audio.delete(save=False)
        if recording.original_file:
            recording.original_file.delete(save=False)
        recording.delete()


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
    body = (head + "Content-Type: audio/wav\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class Student(FastHttpUser):
    # A student reads the page and listens to a few one-second filter sounds before the next step.
    wait_time = between(*THINK_S)

    def on_start(self) -> None:
        self.username = f"load-{next(_next_user) % USERS}"
        self.recordings: list[int] = []
        self.sign_in()

    # ------------------------------------------------------------------ helpers

    def csrf(self) -> str:
        return next((c.value for c in self.client.cookiejar if c.name == "csrftoken"), "")

    def post_json(self, path: str, payload: dict, *, name: str) -> dict | None:
        with self.client.post(
            path, json=payload, headers={"X-CSRFToken": self.csrf()}, name=name, catch_response=True
        ) as response:
            if response.status_code not in (200, 201, 202):
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return None
            return response.json()

    def wait_for_analysis(self, analysis_id: int) -> dict | None:
        """Poll the analysis as the lab page does (every 100 ms at first) until it is done."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with self.client.get(
                f"/api/analyses/{analysis_id}/", name="/api/analyses/[id]/ (poll)", catch_response=True
            ) as response:
                data = response.json() if response.status_code == 200 else None
                if data is None:
                    response.failure(f"{response.status_code}")
                    return None
                if data["status"] == "failed":
                    response.failure(f"analysis failed: {data['error']}")
                    return None
                if data["status"] == "done":
                    return data
            time.sleep(0.1)
        events.request.fire(
            request_type="ANALYSIS", name="analysis done within 60 s", response_time=60000,
            response_length=0, exception=TimeoutError("the analysis was not done within 60 s"),
        )  # fmt: skip
        return None

    # ------------------------------------------------------------------ what students do

    def sign_in(self) -> None:
        page = self.client.get("/accounts/login/", name="/accounts/login/")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text or "")
        with self.client.post(
            "/accounts/login/",
            data=f"csrfmiddlewaretoken={match.group(1) if match else ''}&username={self.username}&password={PASSWORD}",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            name="/accounts/login/ (sign in)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"sign-in answered {response.status_code}")

    @task(1)
    def sign_out_and_in(self) -> None:
        self.client.post("/accounts/logout/", headers={"X-CSRFToken": self.csrf()}, name="/accounts/logout/")
        self.sign_in()

    @task(6)
    def explore_a_new_clip(self) -> None:
        clip = random.choice(CLIPS)
        body, content_type = _multipart(clip.name, clip.read_bytes())
        with self.client.post(
            "/api/recordings/", data=body, headers={"Content-Type": content_type, "X-CSRFToken": self.csrf()},
            name="/api/recordings/ (upload)", catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            recording = response.json()["id"]
        derived = self.post_json(
            f"/api/recordings/{recording}/derive/", {"operations": [random.choice(EDITS)]},
            name="/api/recordings/[id]/derive/",
        )  # fmt: skip
        if derived is None:
            return
        self.recordings += [recording, derived["id"]]
        analysis = self.post_json(
            f"/api/recordings/{derived['id']}/analyses/", {}, name="/api/recordings/[id]/analyses/"
        )
        if analysis is None:
            return
        self.client.get(f"/recordings/{derived['id']}/", name="/recordings/[id]/ (lab page)")
        done = self.wait_for_analysis(analysis["id"])
        if done is None:
            return
        first = done["layers"][0]
        for url in first["images"]:
            self.client.get(url, name="/analyses/[id]/layers/[layer]/[k].png")
        for url in random.sample(first["audio"], 4):
            self.client.get(url, name="/analyses/[id]/layers/[layer]/[k].wav")

    @task(2)
    def compare_two_clips(self) -> None:
        if len(self.recordings) < 2:
            return
        a, b = self.recordings[-2:]
        experiment = self.post_json("/api/experiments/", {"recording_a": a, "recording_b": b}, name="/api/experiments/")
        if experiment is None:
            return
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            comparison = self.client.get(
                f"/api/experiments/{experiment['id']}/comparison/", name="/api/experiments/[id]/comparison/ (poll)"
            )
            state = comparison.json()["status"] if comparison.status_code == 200 else "failed"
            if state in ("done", "failed"):
                break
            time.sleep(0.1)
        self.client.get(f"/experiments/{experiment['id']}/", name="/experiments/[id]/ (comparison page)")
        for index in range(4):
            for side in ("a", "b"):
                self.client.get(
                    f"/experiments/{experiment['id']}/layers/conv1/{index}/{side}.png",
                    name="/experiments/[id]/layers/[layer]/[k]/[side].png",
                )
