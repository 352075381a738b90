// Signs one test delivery with the Standard Webhooks reference implementation (npm
// `standardwebhooks`), for tests/integration/webhook_ledger_test.cpp. Input: a JSON file
// {"secret": "whsec_...", "id": "...", "timestamp": <seconds>, "body": "..."}; output: the
// webhook-signature value on stdout. Installed with `npm ci` by tests/support/webhook_signer.cpp.
import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const wh = new Webhook(input.secret);
const signature = wh.sign(input.id, new Date(input.timestamp * 1000), input.body);
// Check the round trip with the reference verifier too (a signer bug fails loudly here).
// verify() also parses the payload as JSON: a body that is not JSON (a test of deliveries
// without an id) is checked for its signature only.
if (input.verify !== false && Math.abs(Date.now() / 1000 - input.timestamp) < 300) {
  try {
    wh.verify(input.body, {
      "webhook-id": input.id,
      "webhook-timestamp": String(input.timestamp),
      "webhook-signature": signature,
    });
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
  }
}
process.stdout.write(signature + "\n");
