from django.urls import path

from . import views
from .feeds import LatestSpeechesAtomFeed, LatestSpeechesFeed

app_name = "speeches"
urlpatterns = [
    path("", views.home, name="home"),
    path("speeches/", views.speech_list, name="list"),
    path("speeches/<int:pk>/", views.speech_detail, name="speech"),
    path("events/", views.event_list, name="events"),
    path("events/<int:pk>/", views.event_detail, name="event"),
    path("people/", views.person_list, name="people"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("organizations/<int:pk>/", views.organization_detail, name="organization"),
    path("years/<int:year>/", views.year_detail, name="year"),
    path("feeds/latest/", LatestSpeechesFeed(), name="feed_rss"),
    path("feeds/latest.atom", LatestSpeechesAtomFeed(), name="feed_atom"),
    path("api/v1/speeches", views.api_speech_list, name="api_list"),
    path("api/v1/speeches/<int:pk>", views.api_speech_detail, name="api_speech"),
]
