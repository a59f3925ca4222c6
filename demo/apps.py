from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data ``make run`` serves (``manage.py seed_demo``). It sits above every other app
    because it builds one of everything through their services; nothing imports it."""

    name = "demo"
    verbose_name = "Demo data"
