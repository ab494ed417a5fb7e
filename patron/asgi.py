"""ASGI entry point for servers: `uvicorn patron.asgi:app`."""

from patron.app import create_app
from patron.config import load_settings

app = create_app(load_settings())
