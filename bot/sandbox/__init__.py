"""A local OpenTrain simulator: same paths, envelopes and states as the real API (see docs/sandbox.md)."""
