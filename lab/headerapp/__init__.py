"""The header-app lab: what an Okta Access Gateway header app receives, decoded."""
