"""Password hashing: Django's Argon2 on one lane, so a class signing in at once leaves cores to everyone else."""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2OneLaneHasher(Argon2PasswordHasher):
    """Django's Argon2id with its memory and time costs (100 MiB, 2 passes), computed on one thread.

    An attacker's cost is the memory and the passes; the lanes only decide how many threads the
    site spends on one sign-in. With Django's eight, every sign-in takes all the cores for its
    150 ms and every other request waits; with one, a sign-in uses one core (about the same CPU
    time) and the others keep answering. Hashes made with eight lanes still verify and are
    rehashed on one at the next sign-in (Django compares the parameters).
    """

    parallelism = 1
