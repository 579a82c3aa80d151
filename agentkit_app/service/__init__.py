"""The service layer: routes a message, persists it and yields events for every transport."""
