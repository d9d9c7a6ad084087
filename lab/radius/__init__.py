"""The RADIUS stack: the offline stand-in for Okta's RADIUS agent and its MFA challenge."""
