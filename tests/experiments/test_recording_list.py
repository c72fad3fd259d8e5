"""The recordings list: each original with its versions under it, and what the network heard in each."""

import re

from django.urls import reverse

from experiments.services.recordings import recording_derive, recording_from_sample
from tests.conftest import login
from tests.experiments.lab_support import analysed


def _groups(page: str) -> list[list[str]]:
    """The titles of each group's rows, in order."""
    bodies = re.findall(r'<tbody class="recording-group"[^>]*>(.*?)</tbody>', page, re.S)
    return [re.findall(r'<a href="/recordings/\d+/">(?:<strong>)?([^<]+)', body) for body in bodies]


def test_versions_are_listed_under_their_original(alice_client, alice, active_model):
    seven = analysed(alice).recording
    three = recording_from_sample(owner=alice, name="3_theo_5")
    sliced = recording_derive(recording=seven, operations=[{"op": "slice", "params": {"start": 0.0, "end": 0.2}}])
    reversed_ = recording_derive(recording=sliced, operations=[{"op": "reverse", "params": {}}])
    louder = recording_derive(recording=seven, operations=[{"op": "gain", "params": {"db": 3}}])
    recording_derive(recording=three, operations=[{"op": "reverse", "params": {}}])

    page = alice_client.get(reverse("recording_list")).content.decode()

    groups = _groups(page)
    # newest original first; each original's versions depth-first under it, whatever was made in between
    assert groups[0][0] == three.title and len(groups[0]) == 2
    assert groups[1] == [seven.title, sliced.title, reversed_.title, louder.title]


def test_each_row_shows_what_the_network_heard(alice_client, alice, active_model):
    analysis = analysed(alice)
    unheard = recording_from_sample(owner=alice, name="3_theo_5")  # never analysed

    page = alice_client.get(reverse("recording_list")).content.decode()

    percent = round(analysis.probabilities[analysis.predicted_label] * 100)
    assert f'data-heard="{analysis.predicted_label}"' in page
    assert f"with probability {percent} %" in page
    assert "not analysed" in page and unheard.title in page


def test_a_search_finds_an_original_by_a_versions_title(alice_client, alice, active_model):
    seven = recording_from_sample(owner=alice, name="7_nicolas_5")
    recording_derive(recording=seven, operations=[{"op": "reverse", "params": {}}], title="Backwards take")
    recording_from_sample(owner=alice, name="3_theo_5")

    page = alice_client.get(reverse("recording_list"), {"q": "backwards"}).content.decode()

    assert _groups(page) == [[seven.title, "Backwards take"]]


def test_it_lists_only_the_users_own_recordings(client, alice, charlie, active_model):
    seven = recording_from_sample(owner=alice, name="7_nicolas_5")
    login(client, charlie)

    assert seven.title not in client.get(reverse("recording_list")).content.decode()
