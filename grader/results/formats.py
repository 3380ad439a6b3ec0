"""The one table of report formats (no imports: the command line reads it before anything heavy).

name -> the template that renders it; `gradescope` is results.json, written with json.dumps
(`results.gradescope`), never a template.
"""
TEMPLATES: dict[str, str] = {"txt": "terminal.txt.j2", "md": "report.md.j2", "html": "report.html.j2",
                             "junit": "junit.xml.j2"}
RESULTS_JSON = "gradescope"
NAMES: tuple[str, ...] = (*TEMPLATES, RESULTS_JSON)
