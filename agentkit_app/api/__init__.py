"""FastAPI routers: translate HTTP and WebSocket to the service, no decisions of their own."""
