"""The iTwins API (``/itwins``, v1): iTwins, favorites, recents, accounts."""
