"""Informator: the city's warning and two-way information system (deployed code)."""
