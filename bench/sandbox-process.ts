/**
 * The sandbox service in a process of its own (`node --import tsx bench/sandbox-process.ts`):
 * parts that park tens of thousands of handoffs keep it apart from the bench's own HTTP
 * clients, so a busy load generator does not make the service time out. Prints
 * `SANDBOX <service url>` once listening; SIGTERM closes it.
 */
import { startSandboxServer } from './sandbox-server.js';

const sandbox = await startSandboxServer();
process.stdout.write(`SANDBOX ${sandbox.serviceUrl}\n`);
process.once('SIGTERM', () => void sandbox.close().finally(() => process.exit(0)));
