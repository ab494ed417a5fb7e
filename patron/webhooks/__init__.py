"""Webhooks: signed HTTP POSTs of domain events to endpoints the operator registers."""
