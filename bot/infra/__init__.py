"""Infrastructure: settings, logging, Redis, secrets and the leased scheduler. Imports nothing else of the bot."""
