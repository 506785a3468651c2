"""The sandbox: a local X look-alike, an audience simulator and an OpenAI-compatible endpoint."""
