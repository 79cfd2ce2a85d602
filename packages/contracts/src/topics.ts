/** Kafka topic names (docs/contract.md §1, §3; docs/architecture.md flow). All are configurable; these are the defaults. */
export const TOPICS = {
  events: 'pos.events',
  deadLetter: 'pos.events.dlq',
  alerts: 'pos.alerts',
  rollups: 'pos.rollups',
} as const;
export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];
