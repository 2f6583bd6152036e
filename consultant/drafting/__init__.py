"""Drafting: the facts a reply states and the Jinja templates that state them."""
