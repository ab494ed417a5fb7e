"""ASGI entry point for servers: `uvicorn patron.asgi:app`."""

from patron.app import create_app
from patron.config import load_settings
from patron.threads import pin_blas_threads

settings = load_settings()
pin_blas_threads(settings.blas_threads)
app = create_app(settings)
