"""The FastAPI application: REST routes, the WebSocket relay and the admin UI."""
