"""Verification: walk the chain in seq order and name the first problem.

The same walk checks the database (verify_database) and an exported bundle
(hub/audit/bundle.py). What each check catches:

- an edited entry: its recomputed hash differs (HASH_MISMATCH);
- a deleted entry: a seq is missing (GAP), or, renumbered, the next entry's
  prev_hash no longer links (LINK_BROKEN);
- reordered entries: a seq repeats or goes back in a stream (DUPLICATE,
  OUT_OF_ORDER); two swapped rows (OUT_OF_ORDER);
- an inserted entry: the entry after it links to the one before (INSERTED);
- a forged or altered checkpoint: its signature or payload (CHECKPOINT_INVALID);
- a re-chained log (every hash recomputed, which needs no key) and a forked
  one: a signed checkpoint names another hash (CHECKPOINT_MISMATCH);
- a cut tail: a signed checkpoint or the head names a seq past the last
  entry (TAIL_TRUNCATED); the head disagrees with the last entry (HEAD_MISMATCH);
- a chain that starts after seq 1 without a signed checkpoint there
  (UNANCHORED_START): pruning always keeps one.

Without checkpoints, a cut tail and a re-chained log look valid: only the
signed checkpoints, kept outside the database too, catch them.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncEngine

from auth.jwks import PinnedKey
from hub.audit.canonical import GENESIS_HASH, Document, document_hash
from hub.audit.chain import (
    Head,
    list_checkpoints,
    read_head,
    snapshot,
    stream_entries,
)
from hub.audit.checkpoint import Checkpoint, checkpoint_error


class Problem(StrEnum):
    MALFORMED = "MALFORMED"
    HASH_MISMATCH = "HASH_MISMATCH"
    GAP = "GAP"
    DUPLICATE = "DUPLICATE"
    OUT_OF_ORDER = "OUT_OF_ORDER"
    LINK_BROKEN = "LINK_BROKEN"
    INSERTED = "INSERTED"
    UNANCHORED_START = "UNANCHORED_START"
    CHECKPOINT_INVALID = "CHECKPOINT_INVALID"
    CHECKPOINT_MISMATCH = "CHECKPOINT_MISMATCH"
    TAIL_TRUNCATED = "TAIL_TRUNCATED"
    HEAD_MISMATCH = "HEAD_MISMATCH"


@dataclass(frozen=True, slots=True)
class Finding:
    seq: int | None  # the first bad seq (None: not about one entry)
    problem: Problem
    detail: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else "log"
        return f"{where}: {self.problem.value}: {self.detail}"


@dataclass(slots=True)
class Report:
    entries: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    checkpoints: int = 0  # signed checkpoints that matched their entry
    signed_through: int | None = None  # seq of the newest matching checkpoint
    finding: Finding | None = None

    @property
    def ok(self) -> bool:
        return self.finding is None

    @property
    def unsigned_tail(self) -> int:
        """Entries after the newest matching checkpoint (a cut there is invisible)."""
        if self.last_seq is None:
            return 0
        return self.last_seq - (self.signed_through or (self.first_seq or 1) - 1)


@dataclass(frozen=True, slots=True)
class _Suspect:
    problem: Problem  # GAP or LINK_BROKEN, unless the next entry shows a swap
    seq: int
    prev: str
    expected_prev: str


class ChainVerifier:
    """Feed entries in stream order; `finish()` returns the report.

    `start` is the seq the chain must begin at (1, or the first kept seq
    after pruning); checkpoints outside [start, end] are not considered.
    """

    def __init__(
        self,
        checkpoints: Iterable[Checkpoint],
        keys: Mapping[str, PinnedKey],
        *,
        start: int = 1,
        end: int | None = None,
        errors: Iterable[Finding] = (),
    ) -> None:
        self.start = start
        self.report = Report()
        self._found: list[Finding] = list(errors)
        self._signed: dict[int, list[Checkpoint]] = {}
        for cp in set(checkpoints):
            if cp.seq < start or (end is not None and cp.seq > end):
                continue
            error = checkpoint_error(cp, keys)
            if error is not None:
                self._found.append(Finding(cp.seq, Problem.CHECKPOINT_INVALID, error))
            else:
                self._signed.setdefault(cp.seq, []).append(cp)
        self._next = start
        self._last_hash = GENESIS_HASH
        self._before_last = GENESIS_HASH
        # A problem that the next entry may name better (swapped entries).
        self._suspect: _Suspect | None = None
        self._stopped = False

    def feed(self, entries: Iterable[tuple[Document, str]]) -> bool:
        """Check entries in order; False once a problem is found (stop feeding)."""
        for document, stored in entries:
            if self._stopped or not self._check(document, stored):
                self._stopped = True
                return False
        return True

    def finish(self, *, head: Head | None = None, last: int | None = None) -> Report:
        """The report; `head` (database) or `last` (bundle) say where the log ends."""
        report = self.report
        if self._suspect is not None:
            self._settle(None)
        end = report.last_seq if report.last_seq is not None else self.start - 1
        if not self._stopped:
            beyond = [
                cp for seq, cps in self._signed.items() if seq > end for cp in cps
            ]
            if beyond:
                newest = max(beyond, key=lambda cp: cp.seq)
                self._stop(
                    end + 1,
                    Problem.TAIL_TRUNCATED,
                    f"a checkpoint signed {newest.at:%Y-%m-%d %H:%M:%S}Z names seq "
                    f"{newest.seq}, but the log ends at {end}",
                )
            elif head is not None:
                self._check_head(head, end)
            elif last is not None and end < last:
                self._stop(
                    end + 1,
                    Problem.TAIL_TRUNCATED,
                    f"entries {end + 1}..{last} missing",
                )
        if self._found:
            report.finding = min(self._found, key=lambda f: f.seq or 0)
        return report

    def add(self, finding: Finding) -> None:
        """A problem found outside the walk (e.g. an unreadable checkpoint line)."""
        self._found.append(finding)

    def _check(self, document: Document, stored: str) -> bool:
        seq = document["seq"]
        prev = document["prev_hash"]
        report = self.report
        if self._suspect is not None:
            return self._settle((seq, prev, stored))
        if seq != self._next:
            return self._out_of_sequence(seq)
        if report.last_seq is None:
            if seq == 1 and prev != GENESIS_HASH:
                return self._stop(seq, Problem.LINK_BROKEN, "seq 1 must follow genesis")
            if seq > 1 and seq not in self._signed:
                return self._stop(
                    seq,
                    Problem.UNANCHORED_START,
                    "the log starts here without a signed checkpoint at this seq",
                )
        elif prev != self._last_hash:
            if prev == self._before_last:
                return self._stop(
                    seq - 1,
                    Problem.INSERTED,
                    f"entry {seq} links to entry {seq - 2}: entry {seq - 1} was inserted",
                )
            self._suspect = _Suspect(Problem.LINK_BROKEN, seq, prev, self._last_hash)
            return True
        if document_hash(document) != stored:
            return self._stop(
                seq,
                Problem.HASH_MISMATCH,
                "the content does not match its hash (edited)",
            )
        for cp in self._signed.get(seq, ()):
            if cp.hash != stored:
                after = report.signed_through
                since = f"after seq {after}" if after else "from the start"
                return self._stop(
                    seq,
                    Problem.CHECKPOINT_MISMATCH,
                    f"the checkpoint signed {cp.at:%Y-%m-%d %H:%M:%S}Z names another "
                    f"hash: entries {since} were re-chained or replaced",
                )
        if seq in self._signed:
            report.checkpoints += 1
            report.signed_through = seq
        if report.first_seq is None:
            report.first_seq = seq
        report.entries += 1
        report.last_seq = seq
        report.last_hash = stored
        self._before_last, self._last_hash = self._last_hash, stored
        self._next = seq + 1
        return True

    def _out_of_sequence(self, seq: int) -> bool:
        expected = self._next
        if self.report.last_seq is not None and seq == self.report.last_seq:
            return self._stop(seq, Problem.DUPLICATE, f"seq {seq} appears twice")
        if seq < expected:
            return self._stop(
                seq, Problem.OUT_OF_ORDER, f"seq {seq} comes after seq {expected - 1}"
            )
        self._suspect = _Suspect(Problem.GAP, seq, "", "")
        return True

    def _settle(self, following: tuple[int, str, str] | None) -> bool:
        """Name a suspect once the next entry (seq, prev, hash) is seen, or none is."""
        suspect, self._suspect = self._suspect, None
        assert suspect is not None
        expected = self._next
        if suspect.problem is Problem.GAP:
            if following is not None and following[0] == expected:
                return self._stop(
                    expected,
                    Problem.OUT_OF_ORDER,
                    f"entry {expected} comes after entry {suspect.seq}",
                )
            first, last = expected, suspect.seq - 1
            missing = f"{first}" if first == last else f"{first}..{last}"
            return self._stop(expected, Problem.GAP, f"entries {missing} missing")
        seq = suspect.seq
        if (
            following is not None
            and following[1] == suspect.expected_prev
            and suspect.prev == following[2]
        ):
            return self._stop(
                seq, Problem.OUT_OF_ORDER, f"entries {seq} and {seq + 1} are swapped"
            )
        return self._stop(
            seq,
            Problem.LINK_BROKEN,
            f"prev_hash is not the hash of entry {seq - 1} "
            "(an entry was removed, replaced or re-chained here)",
        )

    def _check_head(self, head: Head, end: int) -> None:
        if head.seq > end:
            self._stop(
                end + 1,
                Problem.TAIL_TRUNCATED,
                f"the head names seq {head.seq}, but the log ends at {end}",
            )
        elif head.seq < end:
            self._stop(
                head.seq + 1,
                Problem.HEAD_MISMATCH,
                f"entries after the head ({head.seq})",
            )
        elif end >= self.start and head.hash != self.report.last_hash:
            self._stop(end, Problem.HEAD_MISMATCH, "the head names another hash")

    def _stop(self, seq: int, problem: Problem, detail: str) -> bool:
        self._found.append(Finding(seq, problem, detail))
        self._stopped = True
        return False


def verify(
    entries: Iterable[tuple[Document, str]],
    checkpoints: Iterable[Checkpoint],
    keys: Mapping[str, PinnedKey],
    *,
    start: int = 1,
    last: int | None = None,
) -> Report:
    """Verify (document, stored hash) pairs in stream order against checkpoints."""
    verifier = ChainVerifier(checkpoints, keys, start=start, end=last)
    verifier.feed(entries)
    return verifier.finish(last=last)


async def verify_database(
    engine: AsyncEngine,
    *,
    keys: Mapping[str, PinnedKey],
    checkpoints: Sequence[Checkpoint] = (),
    errors: Iterable[Finding] = (),
    chunk: int = 1000,
) -> Report:
    """Verify the stored chain, its stored checkpoints and `checkpoints` (external).

    Read the external file BEFORE calling: everything it names was committed
    first, so a writer running meanwhile cannot make it look ahead of the log.
    All reads share one snapshot, taken after the head.
    """
    async with snapshot(engine) as conn:
        head = await read_head(conn)
        start = max(1, head.pruned_before) if head is not None else 1
        stored = await list_checkpoints(conn, first=start)
        verifier = ChainVerifier(
            [*stored, *checkpoints], keys, start=start, errors=errors
        )
        async for rows in stream_entries(conn, first=start, chunk=chunk):
            if not verifier.feed(rows):
                break
        if head is None and verifier.report.entries:
            verifier.add(
                Finding(None, Problem.HEAD_MISMATCH, "the head row is missing")
            )
        return verifier.finish(head=head)
