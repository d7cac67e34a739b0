"""Test helpers shared by the services' test suites; never imported at run time."""
