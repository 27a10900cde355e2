"""A project's statistics report: its judgments as frames (``data``, ``frames``), the report
(``report``, ``figures``), its cache and background job (``models``, ``snapshots``), the page
(``views``) and the API (``api``)."""
