import type { Language, RuleId } from '@tillwatch/contracts';
import texts from './texts.json' with { type: 'json' };

/**
 * The guides' probable causes and actions, per rule and language. The texts are data
 * (texts.json), written in our own words from docs/guides.md; this module only types them.
 */
export interface RuleTexts {
  probableCauses: string[];
  actions: string[];
}
export type TextCatalogue = Record<RuleId, Record<Language, RuleTexts>>;

export const RULE_TEXTS: TextCatalogue = texts;

/** Texts of an alert a rule raises for a different incident than its usual one (Signal.texts):
 *  `feed_outage` is regional_outage's alert for every region at once (rules/feed-outage.ts). */
export type TextVariant = keyof typeof texts.variants;
export const VARIANT_TEXTS: Record<TextVariant, Record<Language, RuleTexts>> = texts.variants;

export function textsFor(rule: RuleId, lang: Language): RuleTexts {
  const t = RULE_TEXTS[rule][lang];
  return { probableCauses: [...t.probableCauses], actions: [...t.actions] };
}
