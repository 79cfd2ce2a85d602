// A merchant's receiver for Tillwatch webhooks: verify, deduplicate by webhook-id, answer fast.
// Runs as is: `TILLWATCH_WEBHOOK_SECRET=whsec_... npx tsx examples/receiver.ts`.
import { createServer, type Server } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

export function createReceiver(
  secret: string, // the whsec_... secret shown when the subscription was created
  onAlert: (alert: Record<string, unknown>, webhookId: string) => void,
): Server {
  const wh = new Webhook(secret);
  // webhook-id is the same on every retry of one alert transition: keep the ids you have
  // handled (in your database, for at least the 28 h retry window) and ignore repeats.
  const handled = new Set<string>();
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // Verify the raw bytes: parsing and re-serialising the JSON would change the signature.
      const body = Buffer.concat(chunks).toString('utf8');
      let payload: Record<string, unknown>;
      try {
        // Checks the HMAC of `id.timestamp.body` against every `v1,` signature (two during a
        // secret rotation) and refuses timestamps more than 5 minutes off (replays).
        payload = wh.verify(body, req.headers as Record<string, string>) as Record<string, unknown>;
      } catch (e) {
        res.writeHead(e instanceof WebhookVerificationError ? 401 : 400).end();
        return;
      }
      const id = String(req.headers['webhook-id']);
      if (!handled.has(id)) {
        handled.add(id);
        onAlert(payload, id); // queue the work; answer within 15 s or the attempt times out
      }
      res.writeHead(204).end(); // any 2xx = delivered; 410 = "stop sending here"
    });
  });
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  // eslint-disable-next-line no-restricted-properties -- a standalone example for merchants
  const secret = process.env.TILLWATCH_WEBHOOK_SECRET;
  if (!secret) throw new Error('set TILLWATCH_WEBHOOK_SECRET=whsec_...');
  createReceiver(secret, (alert) => {
    if (alert.type === 'endpoint.failing')
      console.warn('another endpoint of ours is failing', alert);
    else console.log(alert.status, alert.rule, alert.key, alert.actions);
  }).listen(8443, '127.0.0.1');
}
