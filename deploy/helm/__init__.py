"""The Helm chart's code side: topics generated from shared/topics.py, and the pinned tools that check the chart."""
