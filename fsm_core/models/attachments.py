"""Stored files (photos, scans, signatures); see :mod:`fsm_core.attachments`."""

from datetime import datetime

from sqlmodel import Field

from fsm_core.models.base import Table, created_at_field


class Attachment(Table, table=True):
    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True)
    size: int
    original_name: str = Field(max_length=255)
    media_type: str = Field(max_length=100)
    created_at: datetime = created_at_field()
