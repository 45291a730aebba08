from django.contrib import admin
from django.urls import include, path

from config.throttle import ThrottledAdminLoginForm

# Repeated wrong passwords lock that user name out for that client for a while.
admin.site.login_form = ThrottledAdminLoginForm

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("search.urls")),
    path("", include("speeches.urls")),
]
