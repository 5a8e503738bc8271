"""The Slack surface: a bolt AsyncApp whose listeners translate Slack payloads into hiring-engine calls."""
