"""The web console's frame: rendering, i18n, layout and static assets. Each domain adds its
own pages (``<domain>/pages.py`` and ``<domain>/templates/``)."""
