from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

from config.throttle import ThrottledAdminLoginForm

# Repeated wrong passwords lock that user name out for that client for a while.
admin.site.login_form = ThrottledAdminLoginForm
admin.site.site_header = _("讲稿库管理")
admin.site.site_title = _("讲稿库管理")
admin.site.index_title = _("讲稿、讲者与会议活动")

urlpatterns = [
    path("admin/", admin.site.urls),
    # The footer's language switch. Exempt from CSRF: the pages that carry it are stored and
    # cached for every reader alike, so they cannot hold a reader's token, and a forged switch
    # only changes the language a reader sees.
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("", include("search.urls")),
    path("", include("speeches.urls")),
]
