"""Chat models behind one interface: OpenAI-compatible, offline demo, scripted, fallback chain."""
