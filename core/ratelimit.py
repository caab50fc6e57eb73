"""Rate limits: fixed windows counted in Redis by the `limits` library, on the process's one Redis connection pool.

A window starts with its first hit and ends on its own (the counter's key expires). Over a limit, `RateLimited`
names the limit and says when to retry (`details.retry_after` seconds; the error handler adds `Retry-After`).
When Redis cannot count, each call site chooses: fail open (log a warning and let the request through) or fail
closed (503 with a sentence). See README "Sign-up and limits".
"""

from __future__ import annotations

import ipaddress
import logging
import math
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.errors import RateLimited, UpstreamUnavailable
from core.settings import Settings

logger = logging.getLogger("core.ratelimit")

KEY_PREFIX = "ratelimit"


IPV6_CLIENT_PREFIX = 64
"""An IPv6 client is its /64: every customer network gets at least one, so its addresses are free to rotate."""


def address_key(host: str) -> str:
    """What per-address limits count a client address as: an IPv4 address itself (also when it arrives
    IPv4-mapped, `::ffff:a.b.c.d`), an IPv6 address as its /64 network (`2001:db8:1:2::/64`). Anything that is not
    an address (a test transport's "testclient") stays as it is."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return str(address)


@dataclass(frozen=True)
class RateLimit:
    """One rule: at most `limit` hits every `window_seconds`, described to people as `what` ("login attempts …")."""

    item: RateLimitItem
    what: str

    @classmethod
    def parse(cls, text: str, what: str) -> RateLimit:
        return cls(item=parse(text), what=what)

    @property
    def limit(self) -> int:
        return self.item.amount

    @property
    def window_seconds(self) -> int:
        return self.item.get_expiry()

    def describe(self) -> str:
        unit = self.item.GRANULARITY.name
        if self.item.multiples == 1:
            return f"at most {self.limit} per {unit}"
        return f"at most {self.limit} every {self.item.multiples} {unit}s"


@dataclass(frozen=True)
class RateRules:
    """The configured rules (settings `RATE_LIMIT_*`), parsed once per process."""

    login_per_account: RateLimit
    login_per_address: RateLimit
    register_per_address: RateLimit
    generate_per_user: RateLimit
    smart_edit_per_user: RateLimit

    @classmethod
    def from_settings(cls, settings: Settings) -> RateRules:
        return cls(
            login_per_account=RateLimit.parse(
                settings.rate_limit_login_per_account, "login attempts for this account"
            ),
            login_per_address=RateLimit.parse(
                settings.rate_limit_login_per_address, "login attempts from your address"
            ),
            register_per_address=RateLimit.parse(
                settings.rate_limit_register_per_address, "registrations from your address"
            ),
            generate_per_user=RateLimit.parse(
                settings.rate_limit_generate_per_user, "generation requests (generate, animate, retry)"
            ),
            smart_edit_per_user=RateLimit.parse(settings.rate_limit_smart_edit_per_user, "smart edits"),
        )


class RateLimiter:
    """Counts hits in Redis; one per process, built in the lifespan on the lifespan's Redis client's pool."""

    def __init__(self, redis: Redis, rules: RateRules) -> None:
        self.rules = rules
        self._redis = redis
        # `implementation="redispy"` makes `limits` use redis-py's asyncio client; the shared pool means no second
        # set of connections (the URI is only parsed, never dialled: the pool already knows where Redis is).
        self._storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=KEY_PREFIX,
            wrap_exceptions=True,
            connection_pool=redis.connection_pool,  # type: ignore[arg-type]  # passed on to redis-py
        )
        self._strategy = FixedWindowRateLimiter(self._storage)

    async def hit(self, rule: RateLimit, *identifiers: str, unavailable: str | None = None) -> None:
        """Count one hit for `identifiers` under `rule`; raise RateLimited when it goes over.

        `unavailable` None fails open when Redis cannot count (a warning is logged and the request goes on);
        a sentence fails closed with a 503 carrying it."""
        try:
            allowed = await self._strategy.hit(rule.item, *identifiers)
            if allowed:
                return
            # The library's window stats round the TTL to whole seconds; the key's PTTL tells the wait exactly.
            ttl_ms = await self._redis.pttl(f"{KEY_PREFIX}:{rule.item.key_for(*identifiers)}")
        except (StorageError, RedisError, OSError) as exc:
            if unavailable is not None:
                raise UpstreamUnavailable(unavailable) from exc
            logger.warning("rate limit %r not checked: Redis is unavailable (%s)", rule.what, exc)
            return
        retry_after = max(1, math.ceil(int(ttl_ms) / 1000))
        raise RateLimited(
            f"Too many {rule.what}: {rule.describe()}. Try again in {retry_after} seconds.",
            details={"retry_after": retry_after, "limit": rule.limit, "window_seconds": rule.window_seconds},
        )

    async def hit_login(self, address: str, email: str) -> None:
        """Every attempt counts, successful or not, before the password is checked: counting first is what keeps
        a burst of concurrent guesses from slipping past. Per address first, so a flood from one address does
        not also lock the account out. Fails open: an outage of Redis must not stop people logging in."""
        await self.hit(self.rules.login_per_address, "login-address", address)
        await self.hit(self.rules.login_per_account, "login-account", email.strip().lower())

    async def hit_register(self, address: str) -> None:
        await self.hit(self.rules.register_per_address, "register-address", address)

    async def hit_join(self, address: str) -> None:
        """Invite links read or used from one address: counted at the per-address login rate (both guard a
        secret in the request), in a counter of their own so joining does not use up logins."""
        rule = RateLimit(self.rules.login_per_address.item, "invite link requests from your address")
        await self.hit(rule, "join-address", address)

    async def hit_generate(self, user_id: int) -> None:
        await self.hit(self.rules.generate_per_user, "generate-user", str(user_id))

    async def hit_smart_edit(self, user_id: int) -> None:
        await self.hit(self.rules.smart_edit_per_user, "smart-edit-user", str(user_id))
