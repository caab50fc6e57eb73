"""Embedded real services (PostgreSQL, Redis, Temporal, S3) started from Python wheels for `make dev` and tests."""
