import { isoTimeField, silenceRecurrenceSchema } from '@tillwatch/contracts';
import { z } from 'zod';
import { savedKeySchema } from './managed-keys';
import { silenceMatchersSchema } from './routes/silences';
import type { Silence } from './store';

/** A silence as a store keeps it (MemoryStore.restoreSilences takes these back). */
export const savedSilenceSchema = z.strictObject({
  id: z.string().min(1),
  matchers: silenceMatchersSchema,
  startsAt: isoTimeField,
  endsAt: isoTimeField,
  recurring: silenceRecurrenceSchema.optional(),
  comment: z.string(),
  createdBy: z.string(),
  createdAt: isoTimeField,
}) satisfies z.ZodType<Silence>;

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
