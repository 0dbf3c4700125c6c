"""People who use the service and the lanes (roles in diagrams) they work in."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base

ROLES = ("officer", "designer", "manager", "admin")


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20), default="officer")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    lanes: Mapped[list[LaneMembership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def lane_names(self) -> set[str]:
        return {m.lane for m in self.lanes}


class LaneMembership(Base):
    __tablename__ = "lane_membership"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    lane: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)

    user: Mapped[User] = relationship(back_populates="lanes")
