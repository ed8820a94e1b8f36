"""E-reservations and click-and-collect orders: creation with a stock hold (create), the
lifecycle after it (flow), how a pickup reads back (views) and the staff console's search."""
