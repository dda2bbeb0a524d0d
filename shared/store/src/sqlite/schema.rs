//! The SQLite tables behind the adapters: `items` for the Table port (one row per item, the index
//! and TTL attributes copied into columns so SQLite can index them) and `messages` for every
//! queue (one row per message, keyed by queue name). Statements are idempotent: opening an
//! existing database keeps its data.

use rusqlite::Connection;

const ITEMS: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk     TEXT NOT NULL,
    sk     TEXT NOT NULL,
    gsi1pk TEXT,
    gsi1sk TEXT,
    gsi2pk TEXT,
    gsi2sk TEXT,
    ttl    INTEGER,
    attrs  TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_gsi2 ON items (gsi2pk, gsi2sk, pk, sk) WHERE gsi2pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_ttl ON items (ttl) WHERE ttl IS NOT NULL;
";

const MESSAGES: &str = "
CREATE TABLE IF NOT EXISTS messages (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    queue         TEXT NOT NULL,
    message_id    TEXT NOT NULL,
    body          TEXT NOT NULL,
    sent_at_ms    INTEGER NOT NULL,
    visible_at_ms INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt       TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_queue ON messages (queue, seq, visible_at_ms);
CREATE INDEX IF NOT EXISTS messages_by_receipt ON messages (receipt) WHERE receipt IS NOT NULL;
";

pub(crate) fn create_items(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(ITEMS)
}

pub(crate) fn create_messages(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(MESSAGES)
}
