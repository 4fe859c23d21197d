"""Precheck: every blocker of a migration, found before anything is touched."""
