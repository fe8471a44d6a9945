"""Schema migrations, numbered; ``PRAGMA user_version`` records the last one applied.

Each step runs in its own transaction. A database whose version is higher than the last step
here was written by a newer Empfang; opening it with this code is refused, because this code
cannot know what the newer schema means.

PostgreSQL starts at ``bot.store.postgres_schema.BASELINE_VERSION`` (that version's schema in
one step) and runs every migration after it, so both backends share the numbers. Append a
new migration at the end: plain SQL both databases speak (``ALTER TABLE … ADD COLUMN``,
``CREATE INDEX``) runs on both; where they differ, a :class:`Step` gives each its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from bot.errors import SchemaTooNewError


@dataclass(frozen=True)
class Step:
    """A migration written twice, where SQLite and PostgreSQL need different SQL."""

    sqlite: str
    postgresql: str


MIGRATIONS: tuple[str | Step, ...] = (
    # 1: contacts, conversations, messages, receipts, durable jobs. Ids are AUTOINCREMENT:
    # idempotency keys sent to chat platforms are derived from them, so an id must never be
    # handed out twice, not even after its row was deleted.
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO meta (key, value) VALUES ('instance_id', lower(hex(randomblob(6))));
    CREATE TABLE contacts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        wa_id TEXT UNIQUE,            -- the customer's number as digits: the ONLY copy
        user_id TEXT UNIQUE,          -- business-scoped user id (BSUID) when sent
        pseudonym TEXT NOT NULL,
        profile_name TEXT,
        region TEXT,
        created_at REAL NOT NULL,
        last_inbound_at REAL,
        notice_sent_at REAL,
        CHECK (wa_id IS NOT NULL OR user_id IS NOT NULL)
    );
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        contact_id INTEGER NOT NULL REFERENCES contacts(id),
        state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
        thread_id TEXT UNIQUE,
        opened_at REAL NOT NULL,
        closed_at REAL,
        claimed_by TEXT,
        last_customer_at REAL,
        last_agent_at REAL
    );
    CREATE UNIQUE INDEX conversations_one_open ON conversations(contact_id)
        WHERE state = 'open';
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        direction TEXT NOT NULL CHECK (direction IN ('in', 'out')),
        contact_id INTEGER NOT NULL REFERENCES contacts(id),
        conversation_id INTEGER REFERENCES conversations(id),
        provider_id TEXT UNIQUE,
        chat_id TEXT UNIQUE,
        kind TEXT NOT NULL,
        body TEXT,
        author TEXT,
        status TEXT,
        status_rank INTEGER NOT NULL DEFAULT -1,
        error_code INTEGER,
        error_title TEXT,
        status_chat_id TEXT,
        shown_status TEXT,
        created_at REAL NOT NULL,
        sent_at REAL
    );
    CREATE INDEX messages_conversation ON messages(conversation_id, id);
    CREATE TABLE status_events (
        provider_id TEXT NOT NULL,
        status TEXT NOT NULL,
        timestamp INTEGER NOT NULL,
        error_code INTEGER,
        error_title TEXT,
        received_at REAL NOT NULL,
        PRIMARY KEY (provider_id, status)
    ) WITHOUT ROWID;
    CREATE TABLE unsupported_events (
        digest TEXT PRIMARY KEY,
        field TEXT NOT NULL,
        received_at REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        order_key TEXT,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dead')),
        attempts INTEGER NOT NULL DEFAULT 0,
        run_after REAL NOT NULL,
        lease_until REAL,
        lease_token TEXT,
        last_error TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX jobs_due ON jobs(state, run_after);
    CREATE INDEX jobs_order ON jobs(order_key, id) WHERE state = 'pending';
    """,
    # 2: case systems: the case linked per (conversation, sink), and the transfer ledger.
    """
    CREATE TABLE case_links (
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        sink TEXT NOT NULL,
        case_id TEXT,                 -- external id: ticket id, or linked with !case <id>
        case_label TEXT,              -- what humans call it, e.g. the ticket number
        thread TEXT NOT NULL DEFAULT '[]',  -- JSON list of e-mail Message-IDs, oldest first
        last_transfer TEXT,           -- transfer id the sink last accepted (retry guard)
        closed INTEGER NOT NULL DEFAULT 0,
        linked_by TEXT,
        updated_at REAL NOT NULL,
        PRIMARY KEY (conversation_id, sink)
    ) WITHOUT ROWID;
    CREATE TABLE transfer_ledger (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a gap shows a deleted row
        transfer_id TEXT NOT NULL UNIQUE,
        time TEXT NOT NULL,           -- ISO 8601 UTC, when the outcome was final
        pseudonym TEXT NOT NULL,      -- never the number, never message content
        sink TEXT NOT NULL,
        case_id TEXT,
        event TEXT NOT NULL,
        categories TEXT NOT NULL,     -- e.g. "pseudonym,text,media"
        outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'dead_lettered')),
        attempts INTEGER NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX transfer_ledger_time ON transfer_ledger(time);
    """,
    # 3: on-call: SLA timers per conversation, operational alerts, daily auto-replies.
    """
    CREATE TABLE sla_timers (
        conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
        since REAL NOT NULL,
        since_message_id INTEGER NOT NULL,
        stage TEXT NOT NULL CHECK (stage IN ('waiting', 'reminded', 'escalated'))
    );
    CREATE TABLE operational_alerts (
        kind TEXT PRIMARY KEY,
        active INTEGER NOT NULL,
        since REAL NOT NULL,
        summary TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE auto_replies (
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        local_date TEXT NOT NULL,
        PRIMARY KEY (conversation_id, local_date)
    ) WITHOUT ROWID;
    """,
    # 4: a contact's row is written only when what is known about it changes. The time of
    # the last inbound message is the newest inbound message's; a copy per contact (never
    # read) rewrote the contact's page on every message, which cost ingest a page per message.
    """
    ALTER TABLE contacts DROP COLUMN last_inbound_at;
    """,
    # 5: typed job payloads (``bot.job_catalog``): jobs ordered per customer carry their
    # contact, from which the order key follows; waiting jobs get it from their order key.
    """
    UPDATE jobs
    SET payload = json_set(payload, '$.contact_id', CAST(substr(order_key, 9) AS INTEGER))
    WHERE kind IN ('relay.inbound', 'relay.outbound', 'chat.status', 'chat.notice', 'chat.root')
        AND order_key LIKE 'contact:%' AND json_valid(payload);
    """,
    # 6: the audit trail of privileged actions (``bot.audit``), chained like the transfer
    # ledger. No message content and no number: the subject is a pseudonym, details are counts
    # and identifiers, a reason is stored masked.
    """
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a gap shows a deleted row
        time TEXT NOT NULL,           -- ISO 8601 UTC
        action TEXT NOT NULL,         -- e.g. "privacy.export", "retention.purge"
        actor TEXT NOT NULL,          -- chat user id, "cli:<os user>" or "empfang"
        subject TEXT,                 -- the pseudonym concerned, if one person is
        reason TEXT,                  -- as given, numbers masked
        details TEXT NOT NULL,        -- canonical JSON: counts, ids, hashes
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX audit_log_subject ON audit_log(subject);
    """,
    # 7: legal holds (``!hold <reason>`` / ``!release``): a held conversation is exempt from
    # retention. The reason is stored masked; who and when are also in the audit trail.
    """
    CREATE TABLE legal_holds (
        conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
        reason TEXT NOT NULL,
        held_by TEXT NOT NULL,
        since REAL NOT NULL
    ) WITHOUT ROWID;
    """,
    # 8: retention purge runs (``bot.retention``): one row per daily run, keyed by when it was
    # scheduled, with its progress, so a run resumes after a crash and a batch that ran twice
    # is recognised. ``contacts.last_activity_at`` keeps a contact's last activity once the
    # purge has removed the conversations it could be read from.
    """
    CREATE TABLE retention_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        scheduled_for REAL NOT NULL UNIQUE,
        started_at REAL NOT NULL,     -- what is due is computed from this, in every batch
        step INTEGER NOT NULL DEFAULT 0,
        phase TEXT NOT NULL DEFAULT 'messages'
            CHECK (phase IN ('messages', 'conversations', 'contacts', 'done')),
        cursor INTEGER NOT NULL DEFAULT 0,
        counts TEXT NOT NULL DEFAULT '{}',
        finished_at REAL
    );
    ALTER TABLE contacts ADD COLUMN last_activity_at REAL;
    """,
    # 9: objection (Art. 21, ``bot.objection``): when the customer wrote a stop keyword; NULL
    # when they have not objected or lifted it. Templates and auto-replies check it.
    """
    ALTER TABLE contacts ADD COLUMN objected_at REAL;
    """,
    # mirroring (``bot.mirror``): the customer's reaction shown on a post (``ref`` is what
    # removes it; NULL when it was shown as a line), agents' reactions on customer messages
    # and the one WhatsApp shows, and what an agent's message carries beyond its text (the
    # customer message it answers, reply buttons).
    """
    CREATE TABLE shown_reactions (
        message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        emoji TEXT NOT NULL,
        ref TEXT
    );
    CREATE TABLE agent_reactions (
        reaction_id TEXT PRIMARY KEY,
        message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        emoji TEXT NOT NULL,
        author TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX agent_reactions_message ON agent_reactions(message_id, created_at);
    CREATE TABLE sent_reactions (
        message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        emoji TEXT NOT NULL
    );
    CREATE TABLE outbound_extras (
        message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        reply_to INTEGER REFERENCES messages(id) ON DELETE SET NULL,
        buttons TEXT
    );
    """,
    # templates (``bot.templates``): the WABA's template catalogue as last read from Meta,
    # and the template and parameters of each queued template send. Parameters are what
    # an agent typed (names, order numbers): they are deleted once the send is done, and
    # with the message; ``request`` is the chat event that asked, so a redelivery is known.
    """
    CREATE TABLE message_templates (
        name TEXT NOT NULL,
        language TEXT NOT NULL,
        status TEXT NOT NULL,
        template TEXT NOT NULL,       -- bot.templates.model.MessageTemplate as JSON
        PRIMARY KEY (name, language)
    ) WITHOUT ROWID;
    CREATE TABLE template_sends (
        message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        request TEXT NOT NULL UNIQUE,
        message TEXT                  -- bot.templates.model.TemplateMessage as JSON
    );
    """,
    # private rooms (``bot.store.private_rooms``): where a Matrix reveal showed the number,
    # by the key of the job that showed it, until its withdrawal cleared the room. In
    # memory only, a reveal retried after a crash opened a second room that kept the number.
    """
    CREATE TABLE private_rooms (
        key TEXT PRIMARY KEY,
        room_id TEXT NOT NULL,
        created_at REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX private_rooms_room ON private_rooms(room_id);
    """,
    # a customer's edits by the message they edit (``bot.mirror``): a delete blanks them all
    """
    CREATE INDEX messages_edits ON messages(body ->> 'target_id') WHERE kind = 'edit';
    """,
    # file posts (``bot.store.media_posts``): the post showing a customer's file, apart from
    # the line with its caption, so retention, erasure and the customer's delete remove it
    # too; the retention run gains the phase ``media`` (``[retention] media``)
    """
    CREATE TABLE media_posts (
        message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        chat_id TEXT NOT NULL,        -- ChatPlatform.post_file's id (Matrix event, Slack file)
        file_ref TEXT,                -- the upload journal's note (Matrix mxc://, Slack file id)
        posted_at REAL NOT NULL
    );
    CREATE INDEX media_posts_age ON media_posts(posted_at);
    CREATE TABLE retention_runs_media (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        scheduled_for REAL NOT NULL UNIQUE,
        started_at REAL NOT NULL,
        step INTEGER NOT NULL DEFAULT 0,
        phase TEXT NOT NULL DEFAULT 'messages'
            CHECK (phase IN ('messages', 'media', 'conversations', 'contacts', 'done')),
        cursor INTEGER NOT NULL DEFAULT 0,
        counts TEXT NOT NULL DEFAULT '{}',
        finished_at REAL
    );
    INSERT INTO retention_runs_media SELECT * FROM retention_runs;
    DROP TABLE retention_runs;
    ALTER TABLE retention_runs_media RENAME TO retention_runs;
    """,
    # conversations per business number (``[[numbers]]``): a customer writing to two numbers
    # has two, each answered from its own number. '' is the one number configured before;
    # ``Conversations.claim_unnumbered`` gives such rows the first configured number.
    """
    ALTER TABLE conversations ADD COLUMN number_id TEXT NOT NULL DEFAULT '';
    DROP INDEX conversations_one_open;
    CREATE UNIQUE INDEX conversations_one_open ON conversations(contact_id, number_id)
        WHERE state = 'open';
    """,
    # The chat room a conversation's thread was opened in (``bot.routing``): each number's
    # threads go to its own room or channel, and a thread stays where it is when the
    # configuration moves its number. '' for threads opened before: the global room.
    """
    ALTER TABLE conversations ADD COLUMN chat_platform TEXT NOT NULL DEFAULT '';
    ALTER TABLE conversations ADD COLUMN chat_room TEXT NOT NULL DEFAULT '';
    """,
    # a conversation's newest line in the chat by the customer's time
    # (``Messages.newest_posted_time``, asked at every relayed line for the "sent" marker): one
    # index lookup instead of reading every posted line of the conversation, which grew with it
    Step(
        sqlite="""
        CREATE INDEX messages_posted_in
            ON messages(conversation_id, CAST(body ->> '$.timestamp' AS INTEGER))
            WHERE direction = 'in' AND chat_id IS NOT NULL AND body IS NOT NULL;
        """,
        postgresql="""
        CREATE INDEX messages_posted_in
            ON messages(conversation_id, CAST((body::json ->> 'timestamp') AS BIGINT))
            WHERE direction = 'in' AND chat_id IS NOT NULL AND body IS NOT NULL;
        """,
    ),
)

LATEST_VERSION = len(MIGRATIONS)


async def schema_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cur:
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def migrate(conn: aiosqlite.Connection) -> int:
    """Bring the schema to ``LATEST_VERSION``; return the version found before."""
    found = await schema_version(conn)
    if found > LATEST_VERSION:
        raise SchemaTooNewError(
            f"database schema version {found} is newer than this Empfang supports "
            f"({LATEST_VERSION}); upgrade Empfang or restore a matching backup"
        )
    for version in range(found + 1, LATEST_VERSION + 1):
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _split(migration_sql(version, "sqlite")):
                await conn.execute(statement)
            await conn.execute(f"PRAGMA user_version = {version}")
        except BaseException:
            await conn.rollback()
            raise
        await conn.commit()
    return found


def migration_sql(version: int, dialect: str) -> str:
    """The SQL of migration ``version`` for ``dialect`` (``sqlite`` or ``postgresql``)."""
    step = MIGRATIONS[version - 1]
    if isinstance(step, Step):
        return step.sqlite if dialect == "sqlite" else step.postgresql
    return step


def _split(script: str) -> list[str]:
    """Statements of a migration; executed one by one so they share the step's transaction."""
    return [part.strip() for part in script.split(";") if part.strip()]
