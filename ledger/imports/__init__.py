"""Bringing history in: journals of entries and spreadsheets of members and exchanges."""
