"""Who may call: API keys (keys) and the staff console's sessions (staff_sessions)."""
