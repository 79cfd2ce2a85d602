import { z } from 'zod';
import { savedKeySchema } from './managed-keys';
import { savedSilenceSchema } from './memory-store';

/**
 * What people set on the board that an embedded gateway keeps only in memory (MemoryStore's
 * silences, MemoryKeyStore's keys): the shape its owner saves and hands back at a start (the
 * all-in-one's state directory, services/tillwatch/src/commands/state.ts `board.json`).
 */
export const boardSettingsSchema = z.strictObject({
  silences: z.array(savedSilenceSchema),
  keys: z.array(savedKeySchema),
});
export type BoardSettings = z.infer<typeof boardSettingsSchema>;
