"""``forge gate``: threshold checks over a scored (and split) dataset, for CI.

:mod:`.checks` holds one function per check, :mod:`.report` renders the results as a table, JUnit XML
and JSON.
"""
