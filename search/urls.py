from django.urls import path

from config.security import rate_limited

from . import views
from .feeds import SearchFeed

app_name = "search"
urlpatterns = [
    path("search/", views.search_page, name="search"),
    path("api/v1/search", views.search_api, name="api"),
    path("opensearch.xml", views.opensearch, name="opensearch"),
    path("feeds/search.atom", rate_limited(SearchFeed()), name="feed"),
]
