from django.contrib.sitemaps.views import sitemap
from django.urls import path

from . import views
from .feeds import (
    EventFeed,
    LatestSpeechesAtomFeed,
    LatestSpeechesFeed,
    OrganizationFeed,
    PersonFeed,
)
from .sitemaps import SITEMAPS

app_name = "speeches"
urlpatterns = [
    path("", views.home, name="home"),
    path("speeches/", views.speech_list, name="list"),
    path("speeches/<int:pk>/", views.speech_detail, name="speech"),
    path("speeches/<int:pk>/cite.bib", views.speech_export, {"fmt": "bib"}, name="cite_bib"),
    path("speeches/<int:pk>/cite.ris", views.speech_export, {"fmt": "ris"}, name="cite_ris"),
    path("speeches/<int:pk>.txt", views.speech_export, {"fmt": "txt"}, name="export_txt"),
    path("speeches/<int:pk>.md", views.speech_export, {"fmt": "md"}, name="export_md"),
    path("speeches/<int:pk>.docx", views.speech_export, {"fmt": "docx"}, name="export_docx"),
    path("events/", views.event_list, name="events"),
    path("events/<int:pk>/", views.event_detail, name="event"),
    path("people/", views.person_list, name="people"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization"),
    path("years/<int:year>/", views.year_detail, name="year"),
    path("feeds/latest/", LatestSpeechesFeed(), name="feed_rss"),
    path("feeds/latest.atom", LatestSpeechesAtomFeed(), name="feed_atom"),
    path("feeds/people/<int:pk>.atom", PersonFeed(), name="feed_person"),
    path("feeds/events/<int:pk>.atom", EventFeed(), name="feed_event"),
    path("feeds/organizations/<int:pk>.atom", OrganizationFeed(), name="feed_organization"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("api/v1/speeches", views.api_speech_list, name="api_list"),
    path("api/v1/speeches/<int:pk>", views.api_speech_detail, name="api_speech"),
]
