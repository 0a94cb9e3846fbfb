"""Infrastructure and the local stack (never deployed, never imported by chalicelib)."""
