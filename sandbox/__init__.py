"""A stateful stand-in for the Graph API endpoints numport uses (Meta cannot be reached from our machines)."""
