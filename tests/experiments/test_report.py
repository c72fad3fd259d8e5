"""The report: one experiment as a single self-contained HTML file, for an instructor to archive."""

import base64
import io
import re
from html.parser import HTMLParser

import soundfile as sf
from django.urls import reverse
from PIL import Image

from experiments.services.experiments import experiment_update


class _References(HTMLParser):
    """Every attribute that could make a browser fetch something, and every tag."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name in {"src", "href", "srcset", "poster", "data", "action", "xlink:href", "background", "formaction"}:
                self.urls.append((tag, name, value or ""))


def _report(client, user, experiment) -> str:
    client.force_login(user)
    response = client.get(reverse("experiment_report", args=[experiment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="experiment-{experiment.pk}-')
    return response.content.decode()


def test_the_report_makes_no_external_reference_at_all(client, ines, submitted_experiment):
    html = _report(client, ines, submitted_experiment)
    parser = _References()
    parser.feed(html)
    assert parser.urls, "the report embeds its images and sounds"
    for tag, name, value in parser.urls:
        assert value.startswith("data:"), f"<{tag} {name}={value[:60]!r}> is not embedded"
    assert not parser.tags & {"script", "link", "iframe", "object", "embed", "base", "form"}
    # Nothing else that would fetch: no url(...) in styles, no @import, no scheme anywhere.
    assert "url(" not in html and "@import" not in html
    assert not re.search(r"(https?:|ftp:|file:)?//[\w.-]+\.\w", html.replace("data:", ""))
    assert "/static/" not in html and "/media/" not in html and "/recordings/" not in html


def test_the_report_embeds_playable_audio_and_real_images(client, ines, submitted_experiment):
    html = _report(client, ines, submitted_experiment)
    sounds = re.findall(r'<audio controls src="data:audio/wav;base64,([^"]+)"', html)
    assert len(sounds) == 2
    for sound in sounds:
        info = sf.info(io.BytesIO(base64.b64decode(sound)))
        assert info.samplerate == 8000 and info.subtype == "PCM_16" and info.frames > 1000
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 2 + 16 + 16 + 32  # two spectrograms; a row A | B | A−B for every filter
    assert Image.open(io.BytesIO(base64.b64decode(images[0]))).size == (640, 230)


def test_the_report_has_predictions_notes_and_comments(client, alice, ines, submitted_experiment):
    experiment_update(experiment=submitted_experiment, notes="I think <b>reversal</b> breaks conv3.")
    html = _report(client, alice, submitted_experiment)
    assert submitted_experiment.title in html or "reversed three" in html
    assert "I think &lt;b&gt;reversal&lt;/b&gt; breaks conv3." in html  # escaped, never markup
    assert "Look at conv3: where does it change?" in html and "ines" in html and "instructor" in html
    assert "Audio ML 101" in html and "Submitted" in html
    assert html.count("<tr>") >= 10 and "Where they part ways" in html
    assert "‖A−B‖ / (‖A‖+‖B‖)" in html
    assert 'class="sim-chart"' in html


def test_the_comparison_page_links_the_report(client, alice, ab_experiment):
    client.force_login(alice)
    page = client.get(reverse("experiment_detail", args=[ab_experiment.pk])).content.decode()
    assert f'href="{reverse("experiment_report", args=[ab_experiment.pk])}" download' in page


def test_a_model_comparison_report_has_the_weight_overlays(client, alice, model_experiment):
    html = _report(client, alice, model_experiment)
    assert html.count('class="outline-a"') >= 6 and len(re.findall(r"<audio ", html)) == 2
