"""Records larger than one NATS message, for the NATS JetStream WAL.

A NATS message is at most the server's ``max_payload`` (1 MiB by default), but
a WAL record has no size limit. A record too big for one message is written
first as chunks to the namespace's companion stream ``elanus-wal-<ns>-big``,
on the subject ``elanus.walbig.<ns>.<channel stream>.<offset>``; then the
channel's stream gets a normal, empty message whose header
``Elanus-Big: <first chunk sequence> <chunks> <bytes>`` points at them. The
channel keeps one message per record, so offsets stay stream sequences.

Chunks are read back with JetStream's direct get (the next message on the
record's subject from a sequence on, so chunks of records written at the same
time by other processes may lie between). Chunks whose
reference never got written (the writer failed in between) are never read and
go with the channel's next truncation. Truncation purges the chunk subjects of
offsets below the cut; dropping a channel purges all of its subjects.
"""

from __future__ import annotations

import json

import nats.errors
import nats.js.errors
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext, api

from elanus.storage.errors import StorageError, WalCorrupt

HEADER = "Elanus-Big"
API_TIMEOUT = 10.0


class BigRecords:
    """The companion stream of one namespace (created on first use). Used on the WAL's loop."""

    def __init__(self, nc: NatsClient, js: JetStreamContext, namespace: str, replicas: int) -> None:
        self._nc = nc
        self._js = js
        self._stream = f"elanus-wal-{namespace}-big"
        self._prefix = f"elanus.walbig.{namespace}."
        self._replicas = replicas
        self._ready = False

    async def _ensure(self) -> None:
        if self._ready:
            return
        config = api.StreamConfig(
            name=self._stream,
            description="elanus WAL records larger than a message",
            subjects=[self._prefix + ">"],
            storage=api.StorageType.FILE,
            num_replicas=self._replicas,
            allow_direct=True,
        )
        try:
            await self._js.add_stream(config)
        except nats.js.errors.BadRequestError:
            await self._js.stream_info(self._stream)  # exists (another configuration): use it
        self._ready = True

    async def put(self, channel_stream: str, offset: int, payload: bytes, chunk: int) -> str:
        """Store the record's chunks; returns the header value that refers to them."""
        await self._ensure()
        subject = f"{self._prefix}{channel_stream}.{offset}"
        first = 0
        pieces = [payload[i : i + chunk] for i in range(0, len(payload), chunk)]
        for i, piece in enumerate(pieces):
            reply = await self._nc.request(subject, piece, timeout=API_TIMEOUT)
            ack = json.loads(reply.data)
            if "error" in ack:
                raise StorageError(f"storing a chunk of a big WAL record failed: {ack['error']}")
            if i == 0:
                first = int(ack["seq"])
        return f"{first} {len(pieces)} {len(payload)}"

    async def get(self, channel_stream: str, offset: int, ref: str) -> bytes:
        first, count, size = (int(x) for x in ref.split())
        subject = f"{self._prefix}{channel_stream}.{offset}"
        pieces: list[bytes] = []
        seq = first
        for _ in range(count):
            # The next message on the record's subject: chunks of other records may lie between.
            try:
                msg = await self._nc.request(
                    f"{api.DEFAULT_PREFIX}.DIRECT.GET.{self._stream}",
                    json.dumps({"seq": seq, "next_by_subj": subject}).encode(),
                    timeout=API_TIMEOUT,
                )
            except nats.errors.NoRespondersError:
                msg = None
            headers = (msg.headers or {}) if msg is not None else {}
            if msg is None or headers.get("Status") or headers.get("Nats-Subject") != subject:
                raise WalCorrupt(f"record {offset} of stream {channel_stream} lost its chunk after {seq}")
            pieces.append(msg.data)
            seq = int(headers["Nats-Sequence"]) + 1
        data = b"".join(pieces)
        if len(data) != size:
            raise WalCorrupt(f"record {offset} of stream {channel_stream} has {len(data)} bytes, not {size}")
        return data

    async def delete(self, channel_stream: str, below: int | None) -> None:
        """Purge the chunks of the channel's records below ``below`` (None: all of them)."""
        if not self._ready:
            try:
                await self._js.stream_info(self._stream)
            except nats.js.errors.NotFoundError:
                return  # no big record was ever written in this namespace
            self._ready = True
        pattern = f"{self._prefix}{channel_stream}."
        if below is None:
            await self._js.purge_stream(self._stream, subject=pattern + ">")
            return
        info = await self._js.stream_info(self._stream, subjects_filter=pattern + ">")
        for subject in (info.state.subjects or {}):
            if int(subject[len(pattern) :]) < below:
                await self._js.purge_stream(self._stream, subject=subject)
