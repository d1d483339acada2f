"""The app's screens, one per module, and the workspace they share."""
