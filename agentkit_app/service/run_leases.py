"""Who owns a run on Redis, and fencing: an owner whose lease lapsed writes nothing more for its run.

A run's lease (``lease:{run}``) holds the token of the process that owns it. The owner renews it by
compare-and-set, and every write it makes for the run (events, stored messages, the end) is one
script that first checks the lease still holds its token. A process that stalls past its lease (a
long pause, a network partition) and finds when it wakes that another process marked the run
interrupted (and maybe resumed it) writes nothing more for it, and stops it. One whose lease lapsed
while nobody took the run over takes it again and goes on.

The database writes a run must make once (its answer, a team's checkpoints and its state) ask
:meth:`Leases.confirm` first, which extends the lease: the owner then has a whole lease to make them
before anyone may take the run over.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

MAX_EVENTS = 100_000  # a stream's cap (a long team run has some thousands)

Command = tuple[str | int | bytes, ...]
"""One Redis command as its words, e.g. ``("SADD", key, member)``; ``("DELIFEQ", key, value)`` deletes
``key`` only while it holds ``value``."""


@dataclass
class Writes:
    """What is written for a run at once: events appended to its stream, then other commands."""

    run_id: str
    stream: str
    first: int = 1  # the entry id (``0-first``) of the first event
    events: list[bytes] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)


# Whether the caller holds the fence KEYS[1] (ARGV[1] its token, ARGV[2] the run, ARGV[3] a lease in ms).
# With KEYS[2] (the run's reaped key) and KEYS[3] (its session's runs): a lease that lapsed while nobody
# took the run over (not reaped, not ended) is taken again, so a merely slow owner goes on.
_HELD = """
local function held()
  local holder = redis.call('get', KEYS[1])
  if holder == ARGV[1] then return true end
  if holder or #KEYS < 3 then return false end
  if redis.call('exists', KEYS[2]) == 1 or not redis.call('zscore', KEYS[3], ARGV[2]) then return false end
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[3])
  return true
end
"""

# only while the fence is held: append ARGV[7] events (from ARGV[8]) to the stream ARGV[4] (capped near
# ARGV[5]), numbered from ARGV[6]; then run the commands after them (each as its length, then its words)
_FENCED = (
    _HELD
    + """
if not held() then return 0 end
local first, n = tonumber(ARGV[6]), tonumber(ARGV[7])
for j = 1, n do
  redis.call('xadd', ARGV[4], 'MAXLEN', '~', ARGV[5], '0-' .. (first + j - 1), 'e', ARGV[7 + j])
end
local i = 8 + n
while i <= #ARGV do
  local n = tonumber(ARGV[i])
  if ARGV[i + 1] == 'DELIFEQ' then
    if redis.call('get', ARGV[i + 2]) == ARGV[i + 3] then redis.call('del', ARGV[i + 2]) end
  else
    redis.call(unpack(ARGV, i + 1, i + n))
  end
  i = i + n + 1
end
return 1
"""
)

# KEYS: lease, reaped, session's runs, busy; ARGV: token, run id, lease ms, answered ("1": the busy key is
# not the run's any more). 0: the run is not this process's (taken over, or its session taken by another run)
_RENEW = (
    _HELD
    + """
if not held() then return 0 end
redis.call('pexpire', KEYS[1], ARGV[3])
if ARGV[4] == '1' then return 1 end
local holder = redis.call('get', KEYS[4])
if holder and holder ~= ARGV[2] then return 0 end
redis.call('set', KEYS[4], ARGV[2], 'PX', ARGV[3])
return 1
"""
)

# KEYS: lease, reaped; ARGV: reaper, ttl s. Only a run without a lease is reaped, and only once.
_CLAIM_REAP = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
if redis.call('set', KEYS[2], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
return 0
"""


class Leases:
    """The leases of one process's runs on Redis: renewed by compare-and-set, fencing every write."""

    def __init__(self, redis: Any, token: str, lease_ms: int) -> None:
        self.token = token
        self.lease_ms = lease_ms
        self._fenced = redis.register_script(_FENCED)
        self._renew = redis.register_script(_RENEW)
        self._claim_reap = redis.register_script(_CLAIM_REAP)
        # when each run's lease was last confirmed (monotonic, taken before asking): it holds a lease from there
        self.confirmed: dict[str, float] = {}

    async def run_fenced(self, fence: list[str], token: str, writes: Writes, client: Any = None) -> bool:
        """Make ``writes`` at once, only while ``fence`` holds ``token``; False (nothing written) if not.

        ``fence`` is the key to check, or a run's lease, reaped key and session list: then a lease
        that lapsed while nobody took the run over is taken again. On a pipeline (``client``), the
        result is the queued command's.
        """
        args: list[str | int | bytes] = [
            token, writes.run_id, self.lease_ms, writes.stream, MAX_EVENTS, writes.first, len(writes.events),
            *writes.events,
        ]  # fmt: skip
        for command in writes.commands:
            args += [len(command), *command]
        return bool(await self._fenced(keys=fence, args=args, client=client))

    async def renew(self, pipe: Any, keys: list[str], run_id: str, answered: bool) -> None:
        """Queue on ``pipe`` the renewal of a run's lease (``keys``: lease, reaped, session list, busy).

        The session's busy key is renewed too while the run answers. The result is 0 when the run
        is no longer this process's: another process took it over, or another run holds its session.
        """
        await self._renew(keys=keys, args=[self.token, run_id, self.lease_ms, int(answered)], client=pipe)

    async def confirm(self, keys: list[str], run_id: str, answered: bool) -> bool:
        """Renew one run's lease now (as :meth:`renew`); whether the run is still this process's, a whole lease from now."""
        asked = time.monotonic()
        owned = bool(await self._renew(keys=keys, args=[self.token, run_id, self.lease_ms, int(answered)]))
        if owned:
            self.confirmed[run_id] = asked
        return owned

    def lapsed(self, run_id: str) -> bool:
        """Whether a run's lease may have lapsed by this process's clock (no renewal confirmed for a lease)."""
        confirmed = self.confirmed.get(run_id)
        return confirmed is not None and time.monotonic() - confirmed >= self.lease_ms / 1000

    async def claim_reap(self, lease: str, reaped: str, reaper: str, ttl_s: int) -> bool:
        """Whether ``reaper`` is the one to mark the run interrupted: its lease is gone and nobody did yet."""
        return bool(await self._claim_reap(keys=[lease, reaped], args=[reaper, ttl_s]))
