"""Celery: the app, thin tasks calling ``consultant`` services, the dispatcher that queues them."""
