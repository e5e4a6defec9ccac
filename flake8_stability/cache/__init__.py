"""The on-disk cache (`.stability_cache/` under the project root): results of earlier runs,
reused while nothing they were computed from has changed."""
