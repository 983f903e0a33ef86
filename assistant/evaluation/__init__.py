"""Answer-quality evaluation over golden question sets: run, score, report, gate CI.

`golden` (the format), `runner` (ask and judge), `attribution` (citations), `metrics`,
`results` (aggregate, result file), `compare`, `charts` and `html` (the report), `config`
(`[tool.assistant.eval]`, thresholds), `generate` (draft questions), `command` (the CLI),
`session` and `pytest_plugin` (tests), `calibrate` (the refusal threshold). Nothing is imported
here, so that the pytest plugin costs nothing where it is not configured.
"""
