import { envs, loadConfig, type Env } from '@tillwatch/config';
import { z } from 'zod';

/** The all-in-one's own settings; the gateway reads its own schema (PORT, keys, ...). */
export const startConfigSchema = z.object({
  TILLWATCH_SEED: envs.int(42),
  /** simulated ms per wall ms; 1 = real time */
  TILLWATCH_SPEED: z.coerce.number().positive().max(1000).default(1),
  TILLWATCH_TERMINALS: envs.int(2400, 10, 1_000_000),
  TILLWATCH_MERCHANTS: envs.int(240, 1, 100_000),
  TILLWATCH_REGIONS: envs.int(12, 1, 64),
  /** minutes of simulated history replayed at start so baselines exist when the board opens */
  TILLWATCH_HISTORY_MIN: envs.int(60, 0, 24 * 60),
  /** first demo incident this many seconds (sim time) after the board opens */
  TILLWATCH_FIRST_INCIDENT_S: envs.int(20, 0),
  /** Rules file (JSON or YAML) over the shipped defaults; edits are applied while running. */
  TILLWATCH_RULES_FILE: z.string().optional(),
  /** pos.events partitions the embedded topology spreads the fleet over, as the processor's topic */
  TILLWATCH_PARTITIONS: envs.int(4, 1, 256),
  TILLWATCH_LANG: z.enum(['en', 'zh']).default('en'),
  /**
   * Where the all-in-one keeps what its rules learnt, the simulated fleet's position and the
   * alerts it sent (commands/state.ts), so a restart continues instead of starting blind;
   * `off` keeps nothing. Relative to the working directory (`npm start`: services/tillwatch).
   */
  TILLWATCH_STATE_DIR: z.string().min(1).default('.data/tillwatch'),
  LOG_LEVEL: envs.logLevel(),
  LOG_FORMAT: z.enum(['pretty', 'json', 'auto']).default('auto'),
});
export type StartConfig = z.infer<typeof startConfigSchema>;

export function loadStartConfig(env?: Env): StartConfig {
  return loadConfig(startConfigSchema, env);
}

/** `tillwatch quality`: where the gateway is and the key to read it with (flags win). */
export const qualityConfigSchema = z.object({
  /** the gateway's base URL; default http://127.0.0.1:8080, what `npm start` serves */
  TILLWATCH_URL: z.string().min(1).optional(),
  /** an API key of any role; safer here than as --token, which `ps` shows */
  TILLWATCH_TOKEN: z.string().min(1).optional(),
});
export type QualityConfig = z.infer<typeof qualityConfigSchema>;

export function loadQualityConfig(env?: Env): QualityConfig {
  return loadConfig(qualityConfigSchema, env);
}
