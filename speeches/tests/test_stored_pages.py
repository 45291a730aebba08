"""Address pages stored for readers (speeches.pages): served while current, never stale."""

import pytest
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import Client

from speeches import pages, services
from speeches.models import RenderedPage, Speech

from .factories import make_speech

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored(django_capture_on_commit_callbacks):
    """Run what a commit runs (the page renderer) for the writes inside the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def html(speech, client=None):
    response = (client or Client()).get(speech.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def mark_stored(speech, text):
    """Put `text` into the stored page, so a response shows whether it came from there."""
    row = RenderedPage.objects.get(speech=speech, language="zh-hans")
    row.compressed_html = pages.compress(text)
    row.save(update_fields=["compressed_html"])


def test_stored_page_equals_the_live_page_with_the_readers_host(stored, seed):
    with stored():
        services.touch(speech=seed)
    served = html(seed)
    RenderedPage.objects.all().delete()
    assert html(seed) == served
    assert f"http://testserver{seed.get_absolute_url()}" in served
    assert pages.ORIGIN not in served
    other_host = Client(HTTP_HOST="archive.example.org")
    with stored():
        services.touch(speech=seed)
    assert f"http://archive.example.org{seed.get_absolute_url()}" in html(seed, other_host)


def test_readers_get_the_stored_page_and_staff_a_fresh_one(stored, seed, boss):
    with stored():
        services.touch(speech=seed)
    mark_stored(seed, "STORED-PAGE")
    assert html(seed) == "STORED-PAGE"
    assert "STORED-PAGE" not in html(seed, boss)
    assert "新质生产力" in html(seed, boss)


def test_a_body_edit_is_never_served_stale(stored):
    speech = make_speech(event="某论坛")
    with stored():
        services.touch(speech=speech)
    mark_stored(speech, "OLD-BODY")
    # No commit hooks run here: the stored page is out of date, and must not be served.
    services.replace_paragraphs(speech=speech, texts=["改过的第一段。"])
    assert "改过的第一段" in html(speech)
    with stored():
        services.replace_paragraphs(speech=speech, texts=["再改的第一段。"])
    speech.refresh_from_db()
    assert RenderedPage.objects.get(speech=speech).speech_updated_at == speech.updated_at
    assert "再改的第一段" in html(speech)


@pytest.mark.parametrize("renamed", ["speaker", "organization", "event"])
def test_a_renamed_speaker_organization_or_event_shows_at_once(stored, renamed):
    speech = make_speech(speaker="李四", organization="某协会", event="某论坛")
    with stored():
        services.touch(speech=speech)
    assert "李四" in html(speech)
    related = getattr(speech, renamed)
    related.name = "新名字"
    related.save()  # no commit hooks: the stored page is out of date until they run
    assert "新名字" in html(speech)
    with stored():
        related.save()
    assert RenderedPage.objects.get(speech=speech).page_version == 2
    assert "新名字" in html(speech)


def test_a_new_neighbour_in_the_event_shows_on_the_page_before_it(stored):
    import datetime

    first = make_speech(title="第一篇", event="某论坛", date=datetime.date(2024, 1, 1))
    with stored():
        services.touch(speech=first)
    assert "第二篇" not in html(first)
    mark_stored(first, "NO-NEIGHBOUR")
    make_speech(title="第二篇", event="某论坛", date=datetime.date(2024, 1, 2))
    page = html(first)
    assert 'rel="next"' in page and "第二篇" in page


def test_an_event_joining_a_series_shows_on_its_new_neighbours_pages(stored):
    import datetime

    first = make_speech(
        title="第一次会议的报告", event="甲会第一次会议", date=datetime.date(2024, 1, 1)
    )
    second = make_speech(
        title="第二次会议的报告", event="甲会第二次会议", date=datetime.date(2025, 1, 1)
    )
    first.event.series = "甲会"
    first.event.save()
    with stored():
        services.touch(speech=first)
    assert "第二次会议的报告" not in html(first)
    mark_stored(first, "NO-NEIGHBOUR")
    with stored():
        second.event.series = "甲会"
        second.event.save()
    page = html(first)
    assert "NO-NEIGHBOUR" not in page
    assert (
        f'<a rel="next" href="/speeches/{second.pk}/">第二次会议的报告（甲会第二次会议） →' in page
    )
    # And leaving the series takes the link away again.
    mark_stored(first, "STILL-LINKED")
    with stored():
        second.event.series = ""
        second.event.save()
    assert "STILL-LINKED" not in html(first) and "第二次会议的报告" not in html(first)


def test_unpublished_and_deleted_addresses_are_never_served(stored):
    speech = make_speech()
    with stored():
        services.touch(speech=speech)
    services.unpublish(speech=speech)
    assert Client().get(speech.get_absolute_url()).status_code == 404
    # Even a page stored for the address's current state is refused once it is a draft.
    Speech.objects.filter(pk=speech.pk).update(status="published")
    with stored():
        services.touch(speech=speech)
    Speech.objects.filter(pk=speech.pk).update(status="draft")
    assert Client().get(speech.get_absolute_url()).status_code == 404
    url = speech.get_absolute_url()
    speech.delete()
    assert not RenderedPage.objects.exists()
    assert Client().get(url).status_code == 404


def test_drafts_get_no_stored_page(stored):
    with stored():
        make_speech(status="draft")
    assert not RenderedPage.objects.exists()


def test_staff_preview_a_draft_live_and_uncached_while_readers_get_404(stored, editor):
    speech = make_speech(title="尚未发布的讲话", status="draft")
    staff = Client()
    staff.force_login(editor)
    response = staff.get(speech.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "<title>［草稿］尚未发布的讲话" in page and '<meta name="robots" content="noindex' in page
    )
    assert '<p class="notice draft-notice" role="status"><strong>草稿</strong>' in page
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    # Staff's visit stores and caches nothing that readers could be given.
    assert not RenderedPage.objects.exists()
    assert Client().get(speech.get_absolute_url()).status_code == 404
    # Published, it has no draft mark, and staff still get it fresh.
    with stored():
        services.publish(speech=speech)
    mark_stored(speech, "STORED-PAGE")
    assert html(speech) == "STORED-PAGE"
    fresh = staff.get(speech.get_absolute_url())
    assert "draft-notice" not in fresh.content.decode() and "STORED-PAGE" not in (
        fresh.content.decode()
    )
    assert "no-store" in fresh["Cache-Control"]


def test_a_page_of_another_release_is_not_served(stored, seed):
    with stored():
        services.touch(speech=seed)
    mark_stored(seed, "OLD-RELEASE")
    RenderedPage.objects.update(release="0" * 16)
    assert "新质生产力" in html(seed)


def test_render_pages_stores_what_is_missing_or_out_of_date(seed):
    make_speech(status="draft")
    call_command("render_pages", verbosity=0)
    # Every language of LANGUAGES; a save stores the site language's alone.
    assert list(RenderedPage.objects.values_list("speech", "language")) == [
        (seed.pk, "en"),
        (seed.pk, "zh-hans"),
    ]
    mark_stored(seed, "CURRENT")
    call_command("render_pages", verbosity=0)
    assert html(seed) == "CURRENT"  # up to date: left alone
    RenderedPage.objects.update(release="0" * 16)
    call_command("render_pages", verbosity=0)
    assert "新质生产力" in html(seed)


def test_a_reader_in_another_language_gets_a_page_in_it(stored, seed):
    with stored():
        services.touch(speech=seed)
    mark_stored(seed, "STORED-IN-CHINESE")
    page = html(seed, Client(HTTP_ACCEPT_LANGUAGE="en"))
    assert '<html lang="en">' in page
    assert html(seed) == "STORED-IN-CHINESE"


def test_with_debug_a_template_edit_shows_at_once(stored, seed, settings):
    with stored():
        services.touch(speech=seed)
    mark_stored(seed, "STORED")
    settings.DEBUG = True
    assert "新质生产力" in html(seed)


def test_search_results_show_stored_card_heads_while_current(stored, search_index):
    from search.queue import drain
    from search.service import search

    speech = make_speech(title="轴承年会致辞", speaker="李四", event="某论坛")
    with stored():
        services.touch(speech=speech)
    drain()
    live = render_to_string("includes/speech_card_head.html", {"speech": speech})
    (hit,) = search(query="轴承").hits
    assert hit.speech.card_head == RenderedPage.objects.get(speech=speech).card_html == live
    row = RenderedPage.objects.get(speech=speech)
    row.card_html = "STORED-CARD"
    row.save(update_fields=["card_html"])
    assert "STORED-CARD" in Client().get("/search/", {"q": "轴承年会"}).content.decode()
    # Renamed without the commit hooks: the stored head is out of date, and not shown.
    speech.speaker.name = "王五"
    speech.speaker.save()
    page = Client().get("/search/", {"q": "轴承年会", "sort": "date"}).content.decode()
    assert "STORED-CARD" not in page and "王五" in page


@pytest.mark.django_db(transaction=True)
def test_an_address_deleted_while_its_page_renders_leaves_no_page_and_no_error(monkeypatch):
    """Another process (an editor, an import) may delete the address between the render and
    the write: the write fails on the foreign key at commit, and the page is simply not kept."""
    speech = make_speech(paragraphs=("一段。",))
    kept = make_speech(title="另一篇", paragraphs=("二段。",))
    RenderedPage.objects.all().delete()
    render = pages.render_for_readers

    def rendered_then_deleted_elsewhere(s, **kwargs):
        page = render(s, **kwargs)
        Speech.objects.filter(pk=s.pk).delete()
        return page

    monkeypatch.setattr(pages, "render_for_readers", rendered_then_deleted_elsewhere)
    services.store_speech_pages(speech_ids=[speech.pk])
    assert not RenderedPage.objects.exists() and not Speech.objects.filter(pk=speech.pk).exists()
    monkeypatch.setattr(pages, "render_for_readers", render)
    services.store_speech_pages(speech_ids=[kept.pk])
    assert list(RenderedPage.objects.values_list("speech_id", flat=True)) == [kept.pk]
