import type { Alert, Language } from '@tillwatch/contracts';

/** What the rules engine may attach to an alert: its guide texts in every language. */
export interface AlertI18n {
  probableCauses?: string[];
  actions?: string[];
}
export type AlertWithI18n = Alert & { i18n?: Partial<Record<Language, AlertI18n>> };

/**
 * The webhook body: the Alert (docs/contract.md §3) with `probableCauses` and `actions` in the
 * subscriber's language, and without the `i18n` side-car (a merchant gets one language, and a
 * smaller body). Falls back to the alert's own texts when the language is missing.
 */
export function localizeAlert(alert: AlertWithI18n, language: Language): Alert {
  const { i18n, ...rest } = alert;
  const t = i18n?.[language];
  return {
    ...rest,
    probableCauses: t?.probableCauses ?? rest.probableCauses,
    actions: t?.actions ?? rest.actions,
  };
}
