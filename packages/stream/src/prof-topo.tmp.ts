import { validateEvent, type TerminalEvent } from '@tillwatch/contracts';
import { createSimulation } from '@tillwatch/simulator';
import { LocalTopology } from './topology';
const sim = createSimulation({ seed: 2, scenario: 'all', start: Date.UTC(2026, 2, 3, 8, 0, 0), durationMs: 3 * 3_600_000 });
const events: TerminalEvent[] = [];
for (const raw of sim.events()) { const r = validateEvent(raw); if (r.ok) events.push(r.event); }
const every = process.argv[2];
for (let round = 0; round < 2; round++) {
  const c0 = process.cpuUsage();
  let alerts = 0;
  const t = new LocalTopology({ alert: () => void alerts++, panes: () => {}, dead: () => {} }, every ? { rules: { evaluateEvery: every } } : {});
  for (const ev of events) t.push(ev);
  t.end();
  const c = process.cpuUsage(c0);
  console.log(round, events.length, alerts, ((c.user + c.system) / events.length).toFixed(2), 'us/event');
}
