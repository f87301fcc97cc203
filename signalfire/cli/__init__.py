"""The `signalfire` command: the composition root."""
