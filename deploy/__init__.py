"""Deployment assets: local infrastructure launchers, Kubernetes manifests, container image."""
