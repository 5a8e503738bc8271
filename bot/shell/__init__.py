"""The terminal front end: the hiring conversation as Slack would show it, over the same engine."""
