import { ApiError } from './api';
import { t, type MessageKey } from './i18n';

/** One problem of a 400's `details` (the gateway's InputIssue: docs/contract.md). */
interface Issue {
  path?: unknown;
  code?: unknown;
  message?: unknown;
}

const FIELDS = new Set([
  'assignee',
  'note',
  'verdict',
  'author',
  'comment',
  'matchers',
  'endsAt',
  'url',
  'merchantId',
  'description',
  'rules',
  'severities',
  'language',
]);

/**
 * What a failed call says to the person who made it, in their language: the field and what is
 * wrong with it for a refused input, what to do for the other statuses; never the server's raw
 * validation text (which stays in the console for whoever debugs). `byStatusHere` words a status
 * the way the screen means it (a webhook's 409 is a limit or a disabled endpoint, not a race).
 */
export function describeError(
  e: unknown,
  byStatusHere: Partial<Record<number, MessageKey>> = {},
): string {
  if (!(e instanceof ApiError)) {
    // fetch rejects with a TypeError when the request never got an answer
    return e instanceof TypeError && /fetch|network/i.test(e.message)
      ? t('errNetwork')
      : t('errUnexpected');
  }
  if (e.status === 400 && Array.isArray(e.details) && e.details.length > 0) {
    return (e.details as Issue[])
      .slice(0, 3)
      .map((i) => {
        const path = typeof i.path === 'string' ? i.path : '';
        const field = path.split('.').pop() ?? '';
        const name = FIELDS.has(field) ? t(`errField_${field}` as MessageKey) : field;
        // a webhook URL the SSRF guard refuses (http, a private or loopback address...); an
        // admin's subscription without its merchant
        const what =
          field === 'url' && i.code === 'custom'
            ? t('errUrlRefused')
            : i.code === 'too_small' || (field === 'merchantId' && i.code === 'custom')
              ? t('errRequired')
              : i.code === 'too_big'
                ? t('errTooLong')
                : t('errInvalid');
        return name ? `${name}: ${what}` : what;
      })
      .join('; ');
  }
  const byStatus: Record<number, MessageKey> = {
    401: 'err401',
    403: 'err403',
    404: 'err404',
    409: 'err409',
    429: 'err429',
  };
  const key = byStatusHere[e.status] ?? byStatus[e.status];
  if (key) return t(key);
  if (e.status >= 500) return t('err5xx');
  return t('errInvalid');
}
