"""Profiles on the wire: the owner's own profile, its update body, the character sheet, the public
profile and the leaderboard. ``ProfilePublic`` is the one user document (GET /me/profile,
/auth/me, registration's ``user``, the sync snapshot): one user, one shape.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from shared.core.i18n import N_
from shared.models.avatars import AvatarUrls
from shared.models.categories import Category
from shared.models.common import TimestampText, UuidText, omitted_not_null, refuse_null
from shared.models.skills import ProfileSkill
from shared.models.timezones import TimeZoneName

DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Bio = Annotated[str, StringConstraints(max_length=2000)]


class ProfilePublic(BaseModel):
    """What a user sees about themselves (GET /me/profile, /auth/me, registration, the sync snapshot).

    Built from ``profile_json`` in SQL, so every route serves the same bytes; no field could carry
    the password hash.
    """

    id: UuidText
    username: str
    email: str
    display_name: str | None
    avatar_url: str | None
    avatar_urls: AvatarUrls
    bio: str | None
    privacy_settings: dict[str, Any]
    timezone: str
    digest_opt_out: bool
    locale: Literal["en", "id"] | None = Field(
        default=None, description="Language of mails and error messages; null: each request's Accept-Language.")
    email_verified: bool
    created_at: TimestampText
    updated_at: TimestampText


class PrivacySettings(BaseModel):
    """Either setting or both; what is not sent keeps its stored value."""

    model_config = ConfigDict(extra="forbid")

    profile_visibility: Literal["public", "private"] | None = Field(
        default=None, description="private: the profile, its card, search and leaderboard entries are gone.")
    leaderboard: Literal["listed", "hidden"] | None = Field(
        default=None, description="hidden: the profile stays public but is on no leaderboard (default listed).")

    _not_null = field_validator("profile_visibility", "leaderboard", mode="before")(refuse_null)

    @model_validator(mode="after")
    def _one_at_least(self) -> PrivacySettings:
        if not self.model_fields_set:
            raise ValueError(N_("set profile_visibility, leaderboard or both"))
        return self


PROFILE_NOT_NULL = ("privacy_settings", "timezone", "digest_opt_out")


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=omitted_not_null(*PROFILE_NOT_NULL))

    display_name: DisplayName | None = None
    bio: Bio | None = None
    privacy_settings: PrivacySettings | None = None
    timezone: TimeZoneName | None = Field(default=None,
                                          description="IANA name; weekly digests arrive Monday 08:00 there.")
    digest_opt_out: bool | None = Field(default=None, description="True: no weekly digest emails.")
    locale: Literal["en", "id"] | None = Field(
        default=None, description="en or id (Bahasa Indonesia): the language of mails and error messages; "
                                  "null: follow each request's Accept-Language (English when it names neither).")

    _not_null = field_validator(*PROFILE_NOT_NULL, mode="before")(refuse_null)

    def changes(self) -> dict[str, Any]:
        """The fields sent, and within privacy_settings only the settings sent (the rest are kept)."""
        return self.model_dump(exclude_unset=True)


class CategoryStats(BaseModel):
    category: Category
    skill_count: int
    total_level: int
    average_level: float
    max_level: int


class Radar(BaseModel):
    axes: list[Category]
    values: list[float]
    metric: str
    max: int


class CharacterStats(BaseModel):
    total_level: int
    skill_count: int
    character_level: int
    next_level_at: int
    categories: list[CategoryStats]
    radar: Radar


class OpenGraph(BaseModel):
    """The Open Graph (and Twitter card) tags of a public profile's page: ``og:title``,
    ``og:description``, ``og:image`` (the 1200 x 630 ``card.png``) and its type, size and alt text."""

    title: str
    description: str
    image: str
    image_type: Literal["image/png"]
    image_width: int
    image_height: int
    image_alt: str


class PublicProfile(BaseModel):
    username: str
    display_name: str | None
    avatar_url: str | None
    avatar_urls: AvatarUrls
    bio: str | None
    created_at: TimestampText
    character: CharacterStats
    skills: list[ProfileSkill]
    open_graph: OpenGraph


class LeaderboardEntry(BaseModel):
    rank: int
    username: str
    display_name: str | None
    avatar_url: str | None
    avatar_urls: AvatarUrls
    score: int
    skill_count: int
    total_level: int
    character_level: int


UnrankedReason = Literal["private", "hidden", "no_skills"]
UNRANKED = ("private: your profile is private; hidden: you opted out of the leaderboards "
            "(privacy_settings.leaderboard); no_skills: you have no score on this board")


class Leaderboard(BaseModel):
    """A page of a board in board order (score DESC, then username); ``rank`` is board-wide
    (1 + the listed users with a higher score: ties share a rank)."""

    category: Category | None
    entries: list[LeaderboardEntry]
    next_cursor: str | None = Field(description="The next page (?cursor=), or null at the board's end or with around.")
    unranked_reason: UnrankedReason | None = Field(
        description=f"around=me only, when you are on no rank of this board (entries is then empty). {UNRANKED}")


class BoardRank(BaseModel):
    """My place on one board (overall, or one category)."""

    category: Category | None = Field(description="null: the overall board (total level)")
    rank: int | None = Field(description="1 + the listed users with a higher score (ties share a rank); "
                                         "null when unranked")
    score: int
    skill_count: int
    unranked_reason: UnrankedReason | None = Field(description=UNRANKED)


class MyRank(BaseModel):
    """``GET /leaderboard/me``: my rank and score overall and in every category (fixed order)."""

    listed: bool = Field(description="Whether you appear on the leaderboards at all (public and not opted out)")
    character_level: int
    overall: BoardRank
    categories: list[BoardRank]


class LevelBucket(BaseModel):
    character_level: int
    users: int | None = Field(description="Listed users at this character level; null when fewer than min_bucket "
                                          "(suppressed, so a count cannot single anyone out)")


class LevelDistribution(BaseModel):
    """``GET /leaderboard/distribution``: listed users with a score (on the overall board) per
    character level, lowest level first; only levels that have any."""

    min_bucket: int = Field(description="Counts below this are reported as null")
    levels: list[LevelBucket]
