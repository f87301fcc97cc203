"""What the public sees, as data and documents: feeds, badges, rendered update texts."""
