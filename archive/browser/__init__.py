"""Browser capture (issue 11, README "Browser capture", docs/browser.md): pages rendered in Chromium, every
exchange recorded through warcprox, a screenshot and the rendered text kept beside the raw capture."""
