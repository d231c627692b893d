"""What comes next in a round and what still blocks it: the guidance shown on the round's page."""
