"""The PostgreSQL catalog database's schema, in versioned steps, and how its URL is read.

Each step of `MIGRATIONS` brings the schema one version up (the version is kept in the table
`schema_version`); the first connection of a release applies the missing steps in one
transaction, under an advisory lock, so replicas starting together take turns, and a database
written by a newer release is refused. Append steps; never edit one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import conninfo as pg_conninfo

from assistant.errors import UsageError

CONNECT_TIMEOUT = 10  # seconds, unless the URL says otherwise
# pg_advisory_xact_lock key held while the schema is migrated (replicas starting together).
_MIGRATION_LOCK = 0x617373697374  # "assist"

# Each step brings the schema one version up; the version is kept in schema_version.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE documents (
        doc_id text PRIMARY KEY,
        path text NOT NULL UNIQUE,
        source text NOT NULL,
        title text NOT NULL,
        format text NOT NULL,
        content_hash text NOT NULL,
        size bigint NOT NULL,
        chunks integer NOT NULL,
        ingested_at double precision NOT NULL,
        text text NOT NULL,
        headings text NOT NULL,
        page_starts text NOT NULL,
        collection text NOT NULL DEFAULT 'default'
    );
    CREATE INDEX documents_by_collection ON documents (collection);
    CREATE TABLE chunks (
        id bigserial PRIMARY KEY,
        chunk_id text NOT NULL UNIQUE,
        -- Checked at commit: a rename moves the chunks before their document.
        doc_id text NOT NULL REFERENCES documents (doc_id) DEFERRABLE INITIALLY DEFERRED,
        ordinal integer NOT NULL,
        start integer NOT NULL,
        "end" integer NOT NULL,
        sentence_spans bytea NOT NULL,
        sentence_vectors bytea NOT NULL,
        context_vectors bytea,
        length integer NOT NULL
    );
    CREATE INDEX chunks_by_doc ON chunks (doc_id);
    CREATE TABLE postings (
        term text NOT NULL,
        row_id bigint NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
        tf integer NOT NULL,
        positions integer[] NOT NULL,
        PRIMARY KEY (term, row_id)
    );
    CREATE INDEX postings_by_row ON postings (row_id);
    -- The chunks' count and token total (BM25's N and average length), kept with each change.
    CREATE TABLE lexical_totals (
        only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        chunks bigint NOT NULL,
        tokens bigint NOT NULL
    );
    INSERT INTO lexical_totals VALUES (true, 0, 0);
    CREATE TABLE pending (doc_id text PRIMARY KEY, vector_ids text NOT NULL);
    CREATE TABLE garbage (vector_id text PRIMARY KEY);
    """,
    # 2: each posting keeps its chunk's length (in tokens), so BM25 scores need no join.
    """
    ALTER TABLE postings ADD COLUMN length integer;
    UPDATE postings p SET length = c.length FROM chunks c WHERE c.id = p.row_id;
    ALTER TABLE postings ALTER COLUMN length SET NOT NULL;
    """,
    # 3: BM25 reads a term's postings from the index alone: the key carries what the score
    # needs (a term's postings lie scattered over the table, one page each: 27k pages read for
    # a three-term question at 100k chunks, against 150 index pages). An index-only scan needs
    # the table's pages marked all-visible by VACUUM: the server's autovacuum runs after 2 % of
    # the postings changed (not 20 %), and `optimize` after each ingest run.
    """
    ALTER TABLE postings DROP CONSTRAINT postings_pkey;
    ALTER TABLE postings ADD PRIMARY KEY (term, row_id) INCLUDE (tf, length);
    ALTER TABLE postings SET (autovacuum_vacuum_insert_scale_factor = 0.02,
                              autovacuum_vacuum_scale_factor = 0.02);
    """,
    # 4: the accounts (assistant.accountstore), shared by every replica like the documents.
    """
    CREATE TABLE users (
        name text PRIMARY KEY,
        password_hash text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'member')),
        created double precision NOT NULL
    );
    CREATE TABLE user_groups (
        "user" text NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        grp text NOT NULL,
        PRIMARY KEY ("user", grp)
    );
    CREATE TABLE grants (
        collection text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('group', 'user')),
        principal text NOT NULL,
        PRIMARY KEY (collection, kind, principal)
    );
    CREATE TABLE user_api_keys (
        key_id text PRIMARY KEY,
        "user" text NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        digest bytea NOT NULL,
        created double precision NOT NULL
    );
    """,
    # 5: the web chat's conversations (assistant.conversations); `seq` orders ties in time.
    """
    CREATE TABLE conversations (
        id text PRIMARY KEY,
        owner text NOT NULL,
        title text NOT NULL,
        created_at double precision NOT NULL,
        updated_at double precision NOT NULL,
        deleted_at double precision,
        seq bigserial NOT NULL
    );
    CREATE INDEX conversations_by_owner ON conversations (owner, updated_at);
    CREATE TABLE turns (
        conversation_id text NOT NULL,
        ordinal integer NOT NULL,
        question text NOT NULL,
        answer_text text NOT NULL,
        answer text NOT NULL,
        asked_at double precision NOT NULL,
        PRIMARY KEY (conversation_id, ordinal)
    );
    """,
    # 6: the question log (assistant.questionlog), read by `assistant quality` on any replica.
    """
    CREATE TABLE questions (
        id text PRIMARY KEY,
        asked_at double precision NOT NULL,
        "user" text,
        groups text NOT NULL,
        collections text,
        question text NOT NULL,
        standalone text,
        refused integer NOT NULL,
        confidence double precision NOT NULL,
        total_ms double precision NOT NULL,
        answer_chars integer NOT NULL,
        sources text NOT NULL
    );
    CREATE INDEX questions_by_time ON questions (asked_at);
    """,
    # 7: the audit log (assistant.audit): `assistant audit` on any replica reads every replica's
    # events. `details` is the event's own fields as a JSON object; `id` orders ties in time.
    """
    CREATE TABLE audit (
        id bigserial PRIMARY KEY,
        event text NOT NULL,
        "user" text,
        time timestamptz NOT NULL,
        request_id text,
        details text NOT NULL
    );
    CREATE INDEX audit_by_time ON audit (time);
    """,
    # 8: the web chat's feedback (assistant.feedbackstore): `assistant quality` on any replica
    # reads every replica's thumbs. One row per record, a record's fields as columns (lists
    # and objects as JSON text, the time as the record wrote it); `seq` keeps their order, in
    # which the latest record of an id wins.
    """
    CREATE TABLE feedback (
        seq bigserial PRIMARY KEY,
        id text NOT NULL,
        "timestamp" text,
        rating text,
        comment text,
        "user" text,
        question text,
        history text,
        standalone_question text,
        answer text,
        refused boolean,
        should_have_been_answered boolean,
        confidence double precision,
        support double precision,
        unsupported_sentences text,
        citations text,
        answerer text,
        settings text
    );
    CREATE INDEX feedback_by_id ON feedback (id);
    """,
    # 9: each term's chunk count, kept with every change of the postings (as the embedded
    # catalog keeps it), so counting a question's terms reads a row a term, not its postings.
    """
    CREATE TABLE term_chunks (term text PRIMARY KEY, chunks bigint NOT NULL);
    INSERT INTO term_chunks SELECT term, count(*) FROM postings GROUP BY term;
    """,
)
SCHEMA = len(MIGRATIONS)


def migrate(db: psycopg.Connection[Any], target: int = SCHEMA) -> int:
    """Bring the database's schema to version `target` in one transaction (replicas starting
    together take turns); returns the version it had. No statement timeout applies: a step
    may take long on a big catalog, and waiting for another replica's migration is right."""
    with db.transaction():
        db.execute("SET LOCAL statement_timeout = 0")
        db.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        db.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
        row = db.execute("SELECT version FROM schema_version").fetchone()
        version = 0 if row is None else int(row[0])
        if version > SCHEMA:
            raise UsageError(
                f"the catalog database has schema version {version}, newer than this release "
                f"understands ({SCHEMA}); upgrade the assistant"
            )
        for step in MIGRATIONS[version:target]:
            db.execute(step)
        if row is None:
            db.execute("INSERT INTO schema_version VALUES (%s)", (max(version, target),))
        elif target > version:
            db.execute("UPDATE schema_version SET version = %s", (target,))
    return version


def parse_url(url: str) -> tuple[str, str, str]:
    """(libpq connection string, where it points without credentials, the password) of a
    postgresql:// URL; UsageError (without the URL: it may hold a password) when it is not
    one."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in {"postgresql", "postgres"}:
        raise UsageError("catalog_url must be a postgresql://USER:PASSWORD@HOST/DATABASE URL")
    try:
        params = pg_conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise UsageError(
            "catalog_url is not a valid postgresql://USER:PASSWORD@HOST/DATABASE URL"
        ) from None
    params.setdefault("connect_timeout", CONNECT_TIMEOUT)
    password = str(params.get("password") or "")
    try:
        parts = urlsplit(url)
        host = parts.hostname or str(params.get("host") or "localhost")
        port = parts.port or params.get("port") or 5432
    except ValueError:
        raise UsageError("catalog_url has an invalid port") from None
    where = f"postgresql://{host}:{port}/{params.get('dbname') or ''}"
    return pg_conninfo.make_conninfo("", **params), where, password
