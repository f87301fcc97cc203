"""The crowd's side: who reported (without keeping who), from where, how often."""
