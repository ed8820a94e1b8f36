"""Promotions: the rule book and its administration, store prices, and baskets priced by the
domain's engine."""
