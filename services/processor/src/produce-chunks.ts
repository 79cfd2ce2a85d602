import type { TopicMessages } from 'kafkajs';

/**
 * Bytes of message keys, values and headers per produce request. A record batch (all records of
 * one partition in one request) must fit the broker's message.max.bytes (1 MiB by default); a
 * group of eight 1 MiB input batches makes several MiB of partials, and a larger batch is
 * refused (MESSAGE_TOO_LARGE), not retried: half the default leaves room for record overhead.
 */
export const PRODUCE_REQUEST_BYTES = 512 * 1024;

type OutMessage = TopicMessages['messages'][number];
const sizeOf = (v: OutMessage['value'] | OutMessage['key']) =>
  v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;
const messageBytes = (m: OutMessage) => {
  let n = 32 + sizeOf(m.key) + sizeOf(m.value);
  if (m.headers)
    for (const [k, v] of Object.entries(m.headers))
      n += k.length + (Array.isArray(v) ? v.reduce((s, x) => s + sizeOf(x), 0) : sizeOf(v));
  return n;
};

/** topicMessages cut into requests of at most `limit` bytes each (a larger message alone), in order. */
export function produceChunks(topicMessages: TopicMessages[], limit: number): TopicMessages[][] {
  const out: TopicMessages[][] = [];
  let chunk: TopicMessages[] = [];
  let bytes = 0;
  for (const { topic, messages } of topicMessages) {
    let cur: TopicMessages | undefined;
    for (const m of messages) {
      const b = messageBytes(m);
      if (bytes + b > limit && bytes > 0) {
        out.push(chunk);
        chunk = [];
        bytes = 0;
        cur = undefined;
      }
      if (!cur) {
        cur = { topic, messages: [] };
        chunk.push(cur);
      }
      cur.messages.push(m);
      bytes += b;
    }
  }
  if (chunk.length) out.push(chunk);
  return out;
}
