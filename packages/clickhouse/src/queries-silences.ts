import { z } from 'zod';
import type { ClickHouse } from './client';
import { conds, epochMs, idList } from './query-params';
import { rowToSilence, silenceToRow, type StoredSilence } from './rows';
import { TABLES } from './schema';
import { ident, inList, raw, sql } from './sql';

// ---- silences ------------------------------------------------------------------------------

/** Create or replace silences; `version` orders concurrent writers (higher wins). */
export async function upsertSilences(
  ch: ClickHouse,
  silences: readonly StoredSilence[],
  version: number,
): Promise<void> {
  await ch.insert(
    TABLES.silences,
    silences.map((s) => silenceToRow(s, version)),
  );
}

/** A tombstone version of the silence: it no longer lists, whatever older rows say. */
export async function deleteSilences(
  ch: ClickHouse,
  silences: readonly StoredSilence[],
  version: number,
): Promise<void> {
  await ch.insert(
    TABLES.silences,
    silences.map((s) => silenceToRow(s, version, true)),
  );
}

/**
 * Silences in their latest version, not deleted, optionally only those in force at activeAt.
 * argMax per id rather than FINAL: exact whether or not parts have merged.
 */
export async function listSilences(
  ch: ClickHouse,
  input: { activeAt?: number; ids?: string[] } = {},
): Promise<StoredSilence[]> {
  const q = z.object({ activeAt: epochMs.optional(), ids: idList.optional() }).parse(input);
  const having = [raw('l_deleted = 0')];
  if (q.activeAt !== undefined)
    having.push(sql`l_starts <= ${q.activeAt} AND l_ends > ${q.activeAt}`);
  const where = q.ids ? (q.ids.length ? sql`silence_id IN ${inList(q.ids)}` : raw('0')) : raw('1');
  const rows = await ch.query<{ l_doc: string }>(
    sql`SELECT silence_id,
          argMax(doc, version) AS l_doc,
          argMax(deleted, version) AS l_deleted,
          argMax(starts_at_ms, version) AS l_starts,
          argMax(ends_at_ms, version) AS l_ends
        FROM ${ident(TABLES.silences)}
        WHERE ${where}
        GROUP BY silence_id
        HAVING ${conds(having)}
        ORDER BY l_starts, silence_id`,
  );
  return rows.map((r) => rowToSilence({ doc: r.l_doc }));
}
