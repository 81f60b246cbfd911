"""Regression testing: question sets beside the documents, run and compared, and chat turns saved as cases.

eval     load a question set (YAML), run it against a Bot, report pass/fail/unchecked
compare  two reports side by side: regressions, fixes, changed answers, sources, refusals, latency
report   the self-contained HTML report (inline CSS and SVG, no script)
charts   its inline SVG bar charts
saved    a chat turn as a case, appended to the documents' saved set under a lock, atomically
"""
