"""Settings of a worker process started by a test: the test job kinds, no TensorFlow warm-up, quick leases."""

from ddevis_site.settings import *  # noqa: F403

WORKER_WARMUP = ["tests.jobs.slow_jobs.register", "tests.degraded_clips.install_from_environment"]
JOB_HEARTBEAT_SECONDS = env_number("JOB_HEARTBEAT_SECONDS", 0.25)  # noqa: F405
JOB_LEASE_SECONDS = env_number("JOB_LEASE_SECONDS", 1.5)  # noqa: F405
