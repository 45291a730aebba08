from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from config.throttle import ThrottledAdminLoginForm

# Repeated wrong passwords lock that user name out for that client for a while.
admin.site.login_form = ThrottledAdminLoginForm
admin.site.site_header = _("讲稿库管理")
admin.site.site_title = _("讲稿库管理")
admin.site.index_title = _("讲稿、讲者与会议活动")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("search.urls")),
    path("", include("speeches.urls")),
]
