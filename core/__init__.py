"""Code shared by the API and the Temporal activities: settings, database, models, services, adapters."""
