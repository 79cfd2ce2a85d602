// Manual look at the board: `npx tsx e2e/browser/demo-server.ts` prints the URL and keys.
import { KEYS, startScenario } from './scenario';

const s = await startScenario(1000);
console.log(s.url);
for (const [who, k] of Object.entries(KEYS)) console.log(`${who}: ${s.url}/#key=${k.key}`);
process.on('SIGINT', () => void s.stop().then(() => process.exit(0)));
