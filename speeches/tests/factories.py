"""Small builders for records the seed fixture does not cover."""

import datetime

from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from speeches import services
from speeches.models import DatePrecision, Event, Organization, Person, Speech, SpeechStatus

STAFF_PASSWORD = "pw-correct-horse-battery"
EDITOR_PERMISSIONS = ("add_speech", "change_speech", "view_speech")


def make_staff(username, *codenames):
    """A staff user with STAFF_PASSWORD and just these permissions."""
    user = User.objects.create_user(username, password=STAFF_PASSWORD, is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def make_speech(
    *,
    title="测试讲稿",
    speaker="张三",
    organization=None,
    event=None,
    date=datetime.date(2023, 5, 1),
    precision=DatePrecision.DAY,
    status=SpeechStatus.PUBLISHED,
    paragraphs=("第一段。", "第二段。"),
    **fields,
):
    speech = Speech.objects.create(
        title=title,
        speaker=Person.objects.get_or_create(name=speaker, note="")[0] if speaker else None,
        organization=Organization.objects.get_or_create(name=organization)[0]
        if organization
        else None,
        event=Event.objects.get_or_create(name=event)[0] if event else None,
        date=date,
        date_precision=precision if date else "",
        status=status,
        **fields,
    )
    services.replace_paragraphs(speech=speech, texts=list(paragraphs))
    return speech


def upload(client, data, name="seed.txt"):
    """Step one of the admin import: the file goes up, the preview comes back."""
    return client.post(
        reverse("admin:speeches_speech_import"), {"file": SimpleUploadedFile(name, data)}
    )


def review_data(response, **changes):
    """The preview's form as a reviewer would submit it, with `changes` typed in."""
    form = response.context["form"]
    return {**{name: form.initial.get(name, "") for name in form.fields}, **changes}


def seed_copy(seed_path):
    """The seed address as another source prints it: the same text but a shorter closing wish."""
    text = seed_path.read_text(encoding="utf-8")
    return text.replace("预祝 2024 上海国际轴承峰会圆满成功！", "预祝峰会圆满成功！").encode()
