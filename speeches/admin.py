from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import services
from .importing.selectors import stored_original
from .models import ArchiveStamp, Event, Organization, Paragraph, Person, SourceFile, Speech
from .services import split_paragraphs


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name"]
    # pinyin: zhouyu, zhou yu or zy find 周宇 here and in the speech form's autocomplete.
    search_fields = ["name", "short_name", "pinyin"]


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "note"]
    search_fields = ["name", "note", "pinyin"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["name", "series", "year", "city", "start_date", "organizer"]
    list_filter = ["year", "series", "city"]
    search_fields = ["name", "series", "city", "pinyin"]
    autocomplete_fields = ["organizer"]


class SpeechAdminForm(forms.ModelForm):
    """Edits the body as one text area; blank lines separate paragraphs."""

    body = forms.CharField(
        label=_("正文"),
        widget=forms.Textarea(attrs={"rows": 30, "cols": 100}),
        help_text=_("段落之间空一行。保存时按空行拆分为段落。"),
        error_messages={"required": _("正文不能为空。")},
    )

    class Meta:
        model = Speech
        fields = [
            "title",
            "subtitle",
            "kind",
            "status",
            "speaker",
            "position",
            "organization",
            "event",
            "column",
            "date",
            "date_precision",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["body"].initial = self.instance.body_text()

    def clean_body(self):
        paragraphs = split_paragraphs(self.cleaned_data["body"])
        if not paragraphs:
            raise forms.ValidationError(_("正文不能为空。"))
        return paragraphs


@admin.register(Speech)
class SpeechAdmin(admin.ModelAdmin):
    form = SpeechAdminForm
    # Speaker, position and organization share one column, so the title keeps its room.
    list_display = ["title", "byline", "event", "date_shown", "kind", "status"]
    list_filter = ["status", "kind", "date_precision", "event__series", "event"]
    list_select_related = ["speaker", "organization", "event"]
    search_fields = ["title", "subtitle", "speaker__name", "organization__name", "event__name"]
    autocomplete_fields = ["speaker", "organization", "event"]
    date_hierarchy = "date"
    readonly_fields = ["created_at", "updated_at"]
    actions = ["publish", "unpublish"]
    fieldsets = [
        (None, {"fields": ["title", "subtitle", "kind", "status"]}),
        (_("讲者"), {"fields": ["speaker", "position", "organization"]}),
        (_("场合与出处"), {"fields": ["event", "column", "date", "date_precision"]}),
        (_("正文"), {"fields": ["body"]}),
        (_("记录"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_urls(self):
        # Imported here so the upload flow stays in admin_import.py, next to its forms.
        from django.urls import path

        from .admin_import import ImportViews

        views = ImportViews(self)
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(views.upload), name="speeches_speech_import"),
            path("import/save/", wrap(views.save), name="speeches_speech_import_save"),
            *super().get_urls(),
        ]

    @transaction.atomic
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.replace_paragraphs(speech=obj, texts=form.cleaned_data["body"])

    @admin.display(description=_("讲者"), ordering="speaker__name")
    def byline(self, obj):
        """周宇（中国轴承工业协会理事长）: as the address page cites its speaker."""
        if not obj.speaker:
            return None
        held = f"{obj.organization.name if obj.organization else ''}{obj.position}"
        return f"{obj.speaker.name}（{held}）" if held else obj.speaker.name

    @admin.display(description=_("日期"), ordering="date")
    def date_shown(self, obj):
        """At the precision the source gives: a year-only date never shows a day."""
        return obj.date_display or None

    @admin.action(description=_("发布所选讲稿"), permissions=["change"])
    def publish(self, request, queryset):
        for speech in queryset:
            services.publish(speech=speech)

    @admin.action(description=_("撤回所选讲稿为草稿"), permissions=["change"])
    def unpublish(self, request, queryset):
        for speech in queryset:
            services.unpublish(speech=speech)


@admin.register(Paragraph)
class ParagraphAdmin(admin.ModelAdmin):
    list_display = ["speech", "position", "is_heading"]
    list_select_related = ["speech"]
    search_fields = ["text", "speech__title"]
    autocomplete_fields = ["speech"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.touch(speech=obj.speech)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        services.touch(speech=obj.speech)

    def delete_queryset(self, request, queryset):
        speeches = {p.speech for p in queryset.select_related("speech")}
        super().delete_queryset(request, queryset)
        for speech in speeches:
            services.touch(speech=speech)


@admin.register(SourceFile)
class SourceFileAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "size",
        "encoding",
        "uploaded_by",
        "uploaded_at",
        "speech",
        "download_link",
    ]
    list_filter = ["encoding"]
    search_fields = ["original_name", "sha256"]
    readonly_fields = [f.name for f in SourceFile._meta.fields] + ["download_link"]

    def has_add_permission(self, request):
        return False

    def get_urls(self):
        from django.urls import path

        download = self.admin_site.admin_view(self.download)
        return [
            path("<int:pk>/download/", download, name="speeches_sourcefile_download"),
            *super().get_urls(),
        ]

    @admin.display(description=_("原始文件"))
    def download_link(self, obj):
        url = reverse("admin:speeches_sourcefile_download", args=[obj.pk])
        return format_html('<a href="{}" download>{}</a>', url, _("下载"))

    def download(self, request, pk):
        """The original bytes, as an attachment only: an upload is never rendered by the browser."""
        source = get_object_or_404(SourceFile, pk=pk)
        if not self.has_view_permission(request, source):
            raise PermissionDenied
        path = stored_original(sha256=source.sha256)
        if path is None:
            raise Http404(_("原始文件不在存储中。"))
        # nosniff comes from SecurityMiddleware (SECURE_CONTENT_TYPE_NOSNIFF).
        return FileResponse(
            path.open("rb"),
            as_attachment=True,
            filename=source.original_name,
            content_type="application/octet-stream",
        )


@admin.register(ArchiveStamp)
class ArchiveStampAdmin(admin.ModelAdmin):
    """Read-only: the stamp is set by signals whenever public content changes."""

    list_display = ["changed_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
