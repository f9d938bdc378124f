/**
 * dynalite in a process of its own, started by local/dynamodb.ts: on a busy machine the local
 * cloud's DynamoDB gets a core of its own instead of sharing one event loop with everything else.
 * Its options come as JSON in argv[2]; it answers with its port over IPC; 'close' lets the
 * requests under way finish, closes the store and exits; so does the loss of its parent.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite');

const server = dynalite(JSON.parse(process.argv[2] ?? '{}'));
let inFlight = 0;
let stopping = false;
const dynaliteListeners = server.listeners('request');
server.removeAllListeners('request');
server.on('request', (req, res) => {
  if (stopping) {
    // DynamoDB's own error shape: the SDK retries it.
    res.writeHead(503, { 'content-type': 'application/x-amz-json-1.0' });
    res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'the local DynamoDB is shutting down' }));
    return;
  }
  inFlight++;
  // dynalite answers from a setImmediate that would hit a closed store: close() waits for these.
  res.once('close', () => inFlight--);
  for (const listener of dynaliteListeners) listener.call(server, req, res);
});

let closing;
function close() {
  closing ??= (async () => {
    const deadline = Date.now() + 5_000;
    while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    stopping = true;
    // dynalite closes its store once its HTTP server has closed.
    server.close(() => process.exit(0));
    server.closeAllConnections();
  })();
}

process.on('message', (message) => {
  if (message === 'close') close();
});
process.on('disconnect', close);
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
