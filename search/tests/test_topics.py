"""Keywords by TF-IDF over this archive, and related addresses, stored with each address."""

import io
import math
import re
from collections import Counter
from urllib.parse import quote

import pytest
from django.core.management import call_command

from search import topics
from search.documents import searchable_text
from search.engine.analysis import fold, jieba_words
from search.engine.topics import STOP_WORDS
from search.models import TopicsState
from search.queue import drain
from speeches.models import Speech
from speeches.tests.factories import make_speech

pytestmark = pytest.mark.django_db


@pytest.fixture
def archive(search_index):
    made = {
        "bearing": make_speech(
            title="轴承", paragraphs=["轴承钢与滚动轴承。轴承产业升级，轴承钢质量。"]
        ),
        "gears": make_speech(title="齿轮", paragraphs=["齿轮箱与滚动轴承。齿轮产业。"]),
        "wind": make_speech(title="风电", paragraphs=["风电整机，风电场。"]),
        "farm": make_speech(title="农业", paragraphs=["粮食生产，农业现代化。粮食安全。"]),
    }
    drain()
    return made


def _tfidf(speech, all_speeches):
    def words(s):
        text = fold(searchable_text(s))
        return [w for w, _, _ in jieba_words(text) if re.fullmatch(r"[\u4e00-\u9fff]{2,}", w)]

    counts = Counter(w for w in words(speech) if w not in STOP_WORDS)
    holding = Counter(w for s in all_speeches for w in set(words(s)))
    return {w: c * math.log(len(all_speeches) / holding[w]) for w, c in counts.items()}


def test_keywords_are_the_best_by_tf_idf_over_this_archive_and_stored(archive, client):
    assert len(topics.compute()) == 4
    bearing = Speech.objects.get(pk=archive["bearing"].pk)
    scores = _tfidf(bearing, list(Speech.objects.all()))
    best = {w for w, score in scores.items() if score == max(scores.values())}
    assert bearing.keywords[0] in best and len(bearing.keywords) <= 10
    assert set(bearing.keywords) == {w for w in scores if scores[w] > 0}
    assert not set(bearing.keywords) & STOP_WORDS
    page = client.get(bearing.get_absolute_url()).content.decode()
    assert f'?q={quote(bearing.keywords[0])}">' in page and "相关讲稿" in page


def test_related_addresses_share_words_and_never_include_the_address(archive, client):
    topics.compute()
    bearing = Speech.objects.get(pk=archive["bearing"].pk)
    assert bearing.related_ids[0] == archive["gears"].pk
    assert bearing.pk not in bearing.related_ids and archive["farm"].pk not in bearing.related_ids
    data = client.get(f"/api/v1/speeches/{bearing.pk}").json()
    assert data["related"][0]["id"] == archive["gears"].pk and data["keywords"] == bearing.keywords


def test_the_indexer_catches_up_with_new_addresses_and_recomputes_when_the_archive_grows(archive):
    assert topics.catch_up() == 4  # none had keywords yet, and a first full run is due
    assert topics.catch_up() == 0
    make_speech(title="新稿", paragraphs=["轴承钢。轴承。"])
    drain()
    assert topics.catch_up() == 5  # one new, and 5 ≥ 4 × 1.05: all again
    assert topics.catch_up() == 0


def test_the_command_computes_every_address_and_remembers_the_archive_size(archive):
    out = io.StringIO()
    call_command("compute_topics", stdout=out)
    assert "已计算 4 篇讲稿" in out.getvalue()
    assert not Speech.objects.filter(keywords__isnull=True).exists()
    assert TopicsState.current().documents == 4 and TopicsState.current().cursor is None
    assert topics.catch_up() == 0  # nothing due: the command did it all
