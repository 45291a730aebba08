"""Roles for the concurrency test, each run in its own process: python -m search.tests.churn ROLE."""

import json
import random
import sys

import django


def write(worker, rounds):
    from speeches import services
    from speeches.models import Person, Speech, SpeechStatus

    rng = random.Random(worker)
    person, _ = Person.objects.get_or_create(name=f"并发讲者{worker}", note="")
    mine = []
    for i in range(rounds):
        speech = Speech.objects.create(
            title=f"并发测试讲稿 {worker}-{i}", speaker=person, status=SpeechStatus.PUBLISHED
        )
        services.replace_paragraphs(speech=speech, texts=[f"并发测试正文，编号甲{worker}乙{i}丙。"])
        mine.append(speech)
        action = rng.random()
        victim = rng.choice(mine)
        if action < 0.25:
            services.unpublish(speech=victim)
        elif action < 0.4:
            services.publish(speech=victim)
        elif action < 0.6:
            mine.remove(victim)
            victim.delete()
        elif action < 0.8:
            services.replace_paragraphs(speech=victim, texts=[f"改写后的并发测试正文{i}。"])


def search(rounds):
    from search import service

    for _ in range(rounds):
        service.search(query="并发测试 正文")
        service.search(query="“并发测试”", sort="date")


def report():
    from search import service
    from speeches.models import Speech

    published = sorted(Speech.objects.published().values_list("pk", flat=True))
    found = sorted(service.matching_ids("并发测试"))
    print(json.dumps({"published": published, "found": found}))


if __name__ == "__main__":
    django.setup()
    role, *args = sys.argv[1:]
    {"write": write, "search": search, "report": report}[role](*map(int, args))
