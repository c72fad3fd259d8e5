"""Past one machine: two web processes and two workers, each with its own data folder, share one PostgreSQL
queue and one S3 bucket (moto's server): every job runs exactly once and every process sees the same files."""

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = os.environ.get("SCALE_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")


def _wait_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"nothing listened on {port} within 120 s"
        time.sleep(0.2)


@pytest.fixture
def postgres_database():
    """A PostgreSQL database of its own (dropped afterwards); skipped when no server answers."""
    psycopg = pytest.importorskip("psycopg")
    name = f"ddevis_scale_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip(f"no PostgreSQL at {POSTGRES}")
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.fixture
def s3_bucket(tmp_path):
    """A bucket on moto's S3 server, started on a free port: (endpoint URL, bucket name)."""
    import boto3

    port = free_port()
    log = tmp_path / "moto.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)], stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    try:
        _wait_listening(port, server, log)
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client(
            "s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
        ).create_bucket(Bucket="ddevis-media")
        yield endpoint, "ddevis-media"
    finally:
        server.terminate()
        server.wait(timeout=20)


class Machines:
    """Processes started with the shared database and bucket, each with its own data folder."""

    def __init__(self, tmp_path: Path, database_url: str, endpoint: str, bucket: str) -> None:
        self.tmp_path = tmp_path
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.jobs.worker_settings",  # the test job kinds, quick leases
            "DATABASE_URL": database_url,
            "AWS_STORAGE_BUCKET_NAME": bucket,
            "AWS_S3_ENDPOINT_URL": endpoint,
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "WORKER_POLL_INTERVAL": "600",  # only PostgreSQL's NOTIFY can wake them in time
            "JOB_LEASE_SECONDS": "300",  # a worker loading TensorFlow on a busy machine is alive
            # What each filter likes (queued when the bundled model is validated) would hold a worker for
            # tens of seconds, and the jobs below wait for both workers.
            "FILTER_INSIGHT_ON_VALIDATION": "0",
            "WEB_PROCESSES": "1",
            "WEB_THREADS": "4",
        }
        self.processes: list[subprocess.Popen] = []

    def env_for(self, name: str) -> dict[str, str]:
        return {**self.env, "DDEVIS_DATA_DIR": str(self.tmp_path / name)}

    def manage(self, name: str, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env_for(name), capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = self.tmp_path / f"{name}.log"
        process = subprocess.Popen(
            command, cwd=ROOT, env=self.env_for(name), stdout=log.open("w"), stderr=subprocess.STDOUT
        )
        self.processes.append(process)
        return process

    def web(self, name: str) -> Callable[[], str]:
        """Start gunicorn as in production; only the API and media are asked for, so no static files are needed.

        Returns a function that waits until it listens and gives its URL: a web process starts while the
        others do what they must first.
        """
        port = free_port()
        config = str(ROOT / "ddevis_site" / "gunicorn.conf.py")
        process = self.start(name, [sys.executable, "-m", "gunicorn", "-c", config, "--bind", f"127.0.0.1:{port}"])

        def listening() -> str:
            _wait_listening(port, process, self.tmp_path / f"{name}.log")
            return f"http://127.0.0.1:{port}"

        return listening

    def worker(self, name: str) -> subprocess.Popen:
        return self.start(name, [sys.executable, "manage.py", "run_worker", "--no-startup-delay"])

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait(condition, *, timeout: float = 120, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(0.1)


@pytest.mark.slow  # registering the bundled model validates it
@pytest.mark.timeout(1800)  # five processes loading Django, two loading TensorFlow
def test_two_web_processes_and_two_workers_share_the_queue_and_the_files(tmp_path, postgres_database, s3_bucket):
    machines = Machines(tmp_path, postgres_database, *s3_bucket)
    try:
        machines.manage("setup", "migrate", "--noinput", "--verbosity", "0")
        # The web processes start while the bundled model is validated (they take no jobs; the workers start
        # after it, so that the command is the one validating it).
        webs = [machines.web("web-1"), machines.web("web-2")]
        # register_bundled_model (the model file goes to the bucket too) and a token, in one start of Django.
        token = machines.manage(
            "setup", "shell", "-c",
            # The conditions' copies of the evaluation clips from the run's folder (tests/degraded_clips.py).
            "from tests.degraded_clips import install_from_environment; install_from_environment()\n"
            "from django.core.management import call_command; call_command('register_bundled_model')\n"
            "from django.contrib.auth.models import User; from accounts.services import api_token_create\n"
            "print(api_token_create(user=User.objects.create_user('scale'), name='scale-out')[1])",
        ).split()[-1]  # fmt: skip
        workers = [machines.worker("worker-1"), machines.worker("worker-2")]
        web_1, web_2 = (listening() for listening in webs)
        auth = {"Authorization": f"Token {token}", "Host": "127.0.0.1"}

        # A clip uploaded through one web process, analysed by a worker, seen through the other.
        with (ROOT / "modelzoo" / "samples" / "7_nicolas_5.wav").open("rb") as clip:
            recording = requests.post(f"{web_1}/api/recordings/", files={"file": clip}, headers=auth).json()
        analysis = requests.post(f"{web_1}/api/recordings/{recording['id']}/analyses/", headers=auth).json()

        def analysis_done() -> bool:
            state = requests.get(f"{web_2}/api/analyses/{analysis['id']}/", headers=auth).json()
            assert state["status"] != "failed", state["error"]
            return state["status"] == "done"

        _wait(analysis_done, what="the analysis")
        state = requests.get(f"{web_2}/api/analyses/{analysis['id']}/", headers=auth).json()
        assert state["predicted_label"] == "7"
        for url, kind in [
            (recording["audio_url"], "audio/wav"),
            (state["layers"][0]["images"][0], "image/png"),
            (state["layers"][1]["audio"][3], "audio/wav"),
            (state["input_image"], "image/png"),
        ]:
            for web in (web_1, web_2):
                response = requests.get(f"{web}{url}", headers=auth)
                assert response.status_code == 200 and response.headers["Content-Type"] == kind, (web, url)
        for name in ("web-1", "web-2", "worker-1", "worker-2"):
            media = tmp_path / name / "media"
            assert not media.exists() or not any(p.is_file() for p in media.rglob("*")), name  # all in the bucket

        # Many jobs at once: each runs exactly once, and both workers take some (the first holds its worker
        # until the other worker has finished one).
        machines.manage(
            "setup", "shell", "-c",
            "from jobs.services import job_create; import tests.jobs.slow_jobs\n"
            "job_create(kind='test-record', owner=None, payload={'hold_until_another_is_done': True})\n"
            "for _ in range(39): job_create(kind='test-record', owner=None, payload={'seconds': 0.05})",
        )  # fmt: skip
        report = "setup", "shell", "-c", (
            "import json; from jobs.models import Job; from django_tasks_db.models import DBTaskResult\n"
            "jobs = Job.objects.filter(kind='test-record')\n"
            "print(json.dumps({'done': jobs.filter(status='done').count(),"
            " 'attempts': sorted({j.attempts for j in jobs}),"
            " 'pids': sorted({j.result.get('pid') for j in jobs if j.result}),"
            " 'claims': sorted({len(t.worker_ids) for t in DBTaskResult.objects.all()})}))"
        )  # fmt: skip

        # Polled on a connection of this test's own: a `manage.py shell` per look would start Django again
        # and again on the cores the two workers need. The figures are read once, through the ORM, at the end.
        import psycopg

        with psycopg.connect(postgres_database, autocommit=True) as db:

            def done() -> int:
                query = "SELECT count(*) FROM jobs_job WHERE kind = 'test-record' AND status = 'done'"
                return db.execute(query).fetchone()[0]

            _wait(lambda: done() == 40, what="40 jobs")
        final = json.loads(machines.manage(*report).strip().splitlines()[-1])
        assert final["attempts"] == [1] and final["claims"] == [1]
        assert final["pids"] == sorted(worker.pid for worker in workers)
    finally:
        machines.stop()
