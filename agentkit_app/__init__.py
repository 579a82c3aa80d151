"""AgentKit: a self-hosted multi-agent chat workspace."""
