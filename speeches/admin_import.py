"""The admin's upload flow: upload or paste, preview what was detected, correct, save.

The original bytes are kept from the moment of upload (content-addressed under
MEDIA_ROOT), so the preview step never holds the only copy of anything.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from . import services
from .importing.decoding import check_size
from .importing.errors import TranscriptImportError
from .importing.selectors import (
    find_event,
    find_organization,
    find_person,
    read_original,
)
from .importing.similarity import SAME_ADDRESS
from .models import Speech, SpeechKind, SpeechStatus

PASTED_NAME = "粘贴文本.txt"
WIDE = forms.TextInput(attrs={"size": 60})
TEXT_FIELDS = (
    "title",
    "subtitle",
    "kind",
    "column",
    "speaker",
    "position",
    "organization",
    "event",
)


class UploadForm(forms.Form):
    # Empty files reach the decoder, which explains the refusal like every other one.
    file = forms.FileField(
        label=_("文件"), required=False, allow_empty_file=True, help_text=_(".txt .md .docx .pdf")
    )
    text = forms.CharField(
        label=_("或粘贴文字"), required=False, widget=forms.Textarea(attrs={"rows": 12, "cols": 80})
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload:
            try:
                check_size(upload.size)
            except TranscriptImportError as error:
                raise forms.ValidationError(str(error)) from error
        return upload

    def clean(self):
        upload, text = self.cleaned_data.get("file"), self.cleaned_data.get("text", "")
        if bool(upload) == bool(text.strip()):
            raise forms.ValidationError(_("请上传一个文件，或者粘贴文字（二选一）。"))
        return self.cleaned_data

    def original(self):
        """(bytes, file name) of what staff gave."""
        upload = self.cleaned_data.get("file")
        if upload:
            return upload.read(), upload.name
        return self.cleaned_data["text"].encode("utf-8"), PASTED_NAME


class BodyForm(forms.Form):
    """The upload and its (corrected) body: all that replacing a kept address's text needs."""

    sha256 = forms.CharField(widget=forms.HiddenInput)
    filename = forms.CharField(widget=forms.HiddenInput)
    body = forms.CharField(
        label=_("正文"),
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100}),
        help_text=_("段落之间空一行。"),
    )

    def clean_body(self):
        paragraphs = services.split_paragraphs(self.cleaned_data["body"])
        if not paragraphs:
            raise forms.ValidationError(_("正文不能为空。"))
        return paragraphs


class ReplaceForm(BodyForm):
    replace = forms.ModelChoiceField(queryset=Speech.objects.all(), widget=forms.HiddenInput)


class ReviewForm(BodyForm):
    """The detected record, for staff to correct before it is saved."""

    title = forms.CharField(label=_("标题"), max_length=300, widget=WIDE)
    subtitle = forms.CharField(label=_("副标题"), max_length=300, required=False, widget=WIDE)
    # No kind is preset: the source rarely names one, and a guess would be saved unnoticed.
    kind = forms.ChoiceField(
        label=_("类型"),
        choices=[("", _("（请选择）")), *SpeechKind.choices],
        error_messages={"required": _("原文没有写明类型，请选择一个。")},
    )
    column = forms.CharField(label=_("出处栏目"), max_length=200, required=False)
    speaker = forms.CharField(label=_("讲者"), max_length=100, required=False)
    position = forms.CharField(label=_("时任职务"), max_length=200, required=False)
    organization = forms.CharField(label=_("代表机构"), max_length=200, required=False, widget=WIDE)
    event = forms.CharField(label=_("会议活动"), max_length=200, required=False, widget=WIDE)
    date = forms.CharField(
        label=_("日期"), required=False, help_text=_("写成 2024-11-20、2024-11 或 2024")
    )
    save_anyway = forms.BooleanField(
        label=_("仍然另存为新讲稿"),
        required=False,
        help_text=_("已核对：这是另一篇讲稿，不是上面那篇的又一份文本。"),
    )
    # The body last, as the fields appear in the form.
    field_order = [*TEXT_FIELDS, "date", "body"]

    def clean_date(self):
        try:
            services.parse_date(self.cleaned_data["date"])
        except TranscriptImportError as error:
            raise forms.ValidationError(str(error)) from error
        return self.cleaned_data["date"]

    def record_fields(self):
        """The fields shown as the record's rows; the confirmation has its own place."""
        return [field for field in self.visible_fields() if field.name != "save_anyway"]

    def metadata(self):
        data = self.cleaned_data
        return {
            **{name: data[name].strip() for name in TEXT_FIELDS},
            "date": data["date"],
            "paragraphs": data["body"],
        }


def initial_review(result, *, filename):
    fields = result.fields
    return {
        "sha256": result.sha256,
        "filename": filename,
        **{name: fields[name] or "" for name in TEXT_FIELDS},
        # What the source says, not the import's fallback: staff choose when it says nothing.
        "kind": result.parsed.kind,
        "date": _date_text(fields["date"], fields["date_precision"]),
        "body": "\n\n".join(fields["paragraphs"]),
    }


def _date_text(date, precision):
    """The date as staff type it back: 2024, 2024-11 or 2024-11-20."""
    if not date:
        return ""
    return date.isoformat()[: {"year": 4, "month": 7}.get(precision, 10)]


def detection_rows(result):
    """Each field with whether the parser found it in the text (检测到) or not (缺失)."""
    parsed = result.parsed
    values = (
        (_("出处栏目"), parsed.column),
        (_("标题"), parsed.title),
        (_("副标题"), parsed.subtitle),
        (_("类型"), parsed.kind),
        (_("讲者"), parsed.speaker),
        (_("时任职务"), parsed.position),
        (_("代表机构"), parsed.organization),
        (_("会议活动"), parsed.event_name),
        (_("日期"), _date_text(parsed.date, parsed.date_precision)),
    )
    return [{"label": label, "value": value, "detected": bool(value)} for label, value in values]


def matches(fields):
    """Existing records the save will link to instead of creating new ones."""
    found = (
        (_("讲者"), fields["speaker"], find_person(name=fields["speaker"]), "person"),
        (
            _("代表机构"),
            fields["organization"],
            find_organization(name=fields["organization"]),
            "organization",
        ),
        (_("会议活动"), fields["event"], find_event(name=fields["event"]), "event"),
    )  # fmt: skip  (one row per line reads as a table)
    return [
        {
            "label": label,
            "name": name,
            "existing": obj,
            "url": reverse(f"admin:speeches_{model}_change", args=[obj.pk]) if obj else "",
        }
        for label, name, obj, model in found
        if name
    ]


class ImportViews:
    """Views mounted by SpeechAdmin.get_urls(); `admin` is that ModelAdmin."""

    def __init__(self, admin):
        self.admin = admin

    def check(self, request):
        if not self.admin.has_add_permission(request):
            raise PermissionDenied

    def context(self, request, **extra):
        return {
            **self.admin.admin_site.each_context(request),
            "opts": self.admin.model._meta,
            "title": _("导入讲稿"),
            **extra,
        }

    def upload(self, request):
        self.check(request)
        form = UploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data, filename = form.original()
            try:
                result = services.preview_import(
                    data=data, filename=filename, uploaded_by=request.user
                )
            except TranscriptImportError as error:
                form.add_error(None, str(error))
            else:
                if result.duplicate_of:
                    return self.to_duplicate(request, result)
                return self.review(
                    request, result, ReviewForm(initial=initial_review(result, filename=filename))
                )
        return TemplateResponse(
            request, "admin/speeches/speech/import_upload.html", self.context(request, form=form)
        )

    def save(self, request):
        self.check(request)
        if request.method != "POST":
            return redirect("admin:speeches_speech_import")
        if "replace" in request.POST:
            return self.replace(request)
        form = ReviewForm(request.POST)
        data = read_original(sha256=form.data.get("sha256", ""))
        if form.is_valid() and data is None:
            form.add_error(None, _("找不到上传的原始文件，请重新上传。"))
        if not form.is_valid():
            return self.review_again(request, form)
        status = SpeechStatus.PUBLISHED if "_publish" in request.POST else SpeechStatus.DRAFT
        try:
            result = services.import_transcript(
                data=data,
                filename=form.cleaned_data["filename"],
                uploaded_by=request.user,
                metadata=form.metadata(),
                status=status,
                allow_same_address=form.cleaned_data["save_anyway"],
            )
        except TranscriptImportError as error:
            form.add_error(None, str(error))
            return self.review_again(request, form)
        if result.duplicate_of:
            return self.to_duplicate(request, result)
        messages.success(request, _("已保存讲稿《%(title)s》。") % {"title": result.speech.title})
        return redirect("admin:speeches_speech_change", result.speech.pk)

    def replace(self, request):
        """The upload's body becomes a kept address's; the address keeps everything else."""
        form = ReplaceForm(request.POST)
        data = read_original(sha256=form.data.get("sha256", ""))
        valid = form.is_valid()
        if valid and not self.admin.has_change_permission(request, form.cleaned_data["replace"]):
            raise PermissionDenied
        try:
            if data is None:
                raise TranscriptImportError(_("找不到上传的原始文件，请重新上传。"))
            if not valid:
                raise TranscriptImportError(" ".join(sum(form.errors.values(), [])))
            speech = services.replace_text(
                speech=form.cleaned_data["replace"],
                data=data,
                filename=form.cleaned_data["filename"],
                paragraphs=form.cleaned_data["body"],
                uploaded_by=request.user,
            )
        except TranscriptImportError as error:
            review = ReviewForm(request.POST)
            review.full_clean()
            review.add_error(None, str(error))
            return self.review_again(request, review)
        messages.success(
            request, _("已用上传的文本替换讲稿《%(title)s》的正文。") % {"title": speech.title}
        )
        return redirect("admin:speeches_speech_change", speech.pk)

    def review(self, request, result, form):
        return TemplateResponse(
            request,
            "admin/speeches/speech/import_preview.html",
            self.context(
                request,
                form=form,
                result=result,
                rows=detection_rows(result),
                matches=matches(result.fields),
                near_duplicates=[
                    {"speech": s, "percent": round(score * 100), "same": score >= SAME_ADDRESS}
                    for s, score in result.near_duplicates
                ],
                same_address=any(score >= SAME_ADDRESS for _s, score in result.near_duplicates),
                paragraphs=[
                    {"text": text, "is_heading": i in result.fields["headings"]}
                    for i, text in enumerate(result.fields["paragraphs"])
                ],
            ),
        )

    def review_again(self, request, form):
        """A rejected correction: show the form again, re-reading the kept original."""
        data = read_original(sha256=form.data.get("sha256", ""))
        try:
            if data is None:
                raise TranscriptImportError(_("找不到上传的原始文件，请重新上传。"))
            filename = form.data.get("filename", PASTED_NAME)
            result = services.preview_import(data=data, filename=filename)
        except TranscriptImportError as error:
            messages.error(request, str(error))
            return redirect("admin:speeches_speech_import")
        return self.review(request, result, form)

    def to_duplicate(self, request, result):
        speech = result.duplicate_of
        if result.duplicate_by == "bytes":
            message = _("同样的文件已经导入过，对应讲稿《%(title)s》。")
        elif result.source_file:
            message = _(
                "正文与已有讲稿《%(title)s》完全相同，没有新建记录；此文件已存为它的原始文件。"
            )
        else:
            message = _("正文与已有讲稿《%(title)s》完全相同，没有新建记录。")
        messages.warning(request, message % {"title": speech.title})
        return redirect("admin:speeches_speech_change", speech.pk)
