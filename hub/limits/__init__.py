"""Abuse limits of /graphql: document shape, cost, per-client budget, timeout."""
