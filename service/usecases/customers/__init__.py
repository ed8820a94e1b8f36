"""Web customers as Cegid knows them (links) and their documents read from Cegid (receipts)."""
