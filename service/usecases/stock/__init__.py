"""Stock: the snapshot pulled from the ERP (sync), read for availability (reader), and the
available-to-promise answers built from it (availability)."""
