"""REST API of customer data under /api/ (being built)."""

from fastapi import APIRouter

router = APIRouter(prefix="/api", tags=["customers"])
