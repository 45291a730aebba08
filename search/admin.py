from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import VocabularyTerm


@admin.register(VocabularyTerm)
class VocabularyTermAdmin(admin.ModelAdmin):
    list_display = ["term", "synonyms_shown", "note", "added_by", "added_at"]
    search_fields = ["term", "synonyms", "note"]
    fields = ["term", "synonyms", "note", "added_by", "added_at"]
    readonly_fields = ["added_by", "added_at"]

    @admin.display(description=gettext_lazy("同义词与简称"))
    def synonyms_shown(self, obj):
        return "、".join(obj.synonym_list())

    def save_model(self, request, obj, form, change):
        if not change:
            obj.added_by = request.user
        super().save_model(request, obj, form, change)
        self._say_reindexed(request, obj)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._say_reindexed(request, obj)

    def _say_reindexed(self, request, obj):
        self.message_user(
            request,
            _("检索马上按新的术语表切词；含有相关词语的 %(n)d 篇讲稿已排队重新索引。")
            % {"n": obj.reindexed},
            messages.INFO,
        )
