import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sql } from 'kysely'
import { openDatabase } from '../../src/db/database.js'
import { freshDatabase, sqlQuery } from '../harness/postgres.js'

// Postgres ends a session (a restart, a failover, pg_terminate_backend) while the server holds its connection
// between two statements, e.g. inside the archive's upsert transaction. pg reports it as an 'error' event on the
// client; with no listener, that event was an uncaught exception: the whole server died with Postgres' restart.

test('a connection Postgres ends while it is checked out between statements fails that work, not the process', async () => {
  const url = await freshDatabase()
  const db = openDatabase(url)
  try {
    const done = db.kysely.transaction().execute(async (tx) => {
      const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(tx)
      await sqlQuery(url, 'SELECT pg_terminate_backend($1)', [rows[0]?.pid])
      // Long enough for Postgres' FATAL message to arrive while no statement is running on this connection.
      await new Promise((r) => setTimeout(r, 300))
      await sql`SELECT 1`.execute(tx)
    })
    await assert.rejects(done)
    // The pool drops the broken connection: the next query gets a new one.
    const { rows } = await sql<{ one: number }>`SELECT 1 AS one`.execute(db.kysely)
    assert.deepEqual(rows, [{ one: 1 }])
  } finally {
    await db.close()
  }
})
