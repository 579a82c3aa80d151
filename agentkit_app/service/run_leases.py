"""Who owns a run on Redis, and fencing: an owner whose lease lapsed writes nothing more for its run.

A run's lease (``lease:{run}``) holds the token of the process that owns it. The owner renews it by
compare-and-set, and every write it makes for the run (events, stored messages, the end) is one
script that first checks the lease still holds its token. A process that stalls past its lease (a
long pause, a network partition) finds the lease gone when it wakes: nothing it still sends is
written, whoever marked the run interrupted or resumed it meanwhile, and it stops the run.

The database writes a run must make once (its answer, a team's checkpoints and its state) ask
:meth:`Leases.confirm` first, which extends the lease: the owner then has a whole lease to make them
before anyone may take the run over.
"""

from __future__ import annotations

import time
from typing import Any

Command = tuple[str | int | bytes, ...]
"""One Redis command as its words, e.g. ``("SADD", key, member)``; ``("DELIFEQ", key, value)`` deletes
``key`` only while it holds ``value``."""

# run the commands in ARGV (each as its length, then its words) only while KEYS[1] holds ARGV[1]
_FENCED = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
local i = 2
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

# KEYS: lease, busy; ARGV: token, run id, lease ms, answered ("1": the busy key is not the run's any more)
_RENEW = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('pexpire', KEYS[1], ARGV[3])
if ARGV[4] == '1' then return 1 end
local holder = redis.call('get', KEYS[2])
if holder == ARGV[2] then redis.call('pexpire', KEYS[2], ARGV[3]) return 1 end
if not holder then redis.call('set', KEYS[2], ARGV[2], 'PX', ARGV[3]) return 1 end
return 0
"""

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

    async def run_fenced(self, fence: str, token: str, commands: list[Command], client: Any = None) -> bool:
        """Run ``commands`` at once, only while the key ``fence`` holds ``token``; False (nothing run) if not."""
        args: list[str | int | bytes] = [token]
        for command in commands:
            args += [len(command), *command]
        return bool(await self._fenced(keys=[fence], args=args, client=client))

    async def renew(self, pipe: Any, lease: str, busy: str, run_id: str, answered: bool) -> None:
        """Queue the renewal of a run's lease (and of the session's busy key while it answers) on ``pipe``.

        Its result is 0 when the run is no longer this process's: the lease lapsed or another run
        holds the session.
        """
        await self._renew(
            keys=[lease, busy], args=[self.token, run_id, self.lease_ms, int(answered)], client=pipe
        )

    async def confirm(self, lease: str, busy: str, run_id: str, answered: bool) -> bool:
        """Renew one run's lease now; whether the run is still this process's (a whole lease from now)."""
        asked = time.monotonic()
        owned = bool(
            await self._renew(keys=[lease, busy], args=[self.token, run_id, self.lease_ms, int(answered)])
        )
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
