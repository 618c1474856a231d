"""The monthly report's content: the month "as of" its end, its words, tables, figures and
``summary.json``. The notebook ``4.0-monthly-report`` calls these; :mod:`analysis.publish` turns the
executed notebook into a page.
"""
