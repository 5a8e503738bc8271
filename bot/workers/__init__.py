"""Background work shared by every bot process: scheduled jobs with leases, proposal notifications."""
