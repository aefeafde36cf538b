import { createServer } from 'node:net';

/** Why the server could not take its address, in words that name the setting to change. */
const REASONS: Record<string, (port: number, host: string) => string> = {
  EADDRINUSE: (port, host) =>
    `port ${port} on ${host} is already in use: set PORT to a free port (PORT=${port + 1} npm start), or stop what listens there.`,
  EACCES: (port) => `port ${port} needs privileges this user lacks: set PORT to 1024 or above.`,
  EADDRNOTAVAIL: (_port, host) =>
    `HOST ${host} is not an address of this machine: set HOST to one of its addresses, or leave it unset.`,
};

export class AddressUnavailable extends Error {}

/**
 * Fails at once, naming PORT or HOST, when the server could not listen where it should: before
 * the database set-up, which can take a while, rather than after it.
 */
export async function checkAddress(port: number, host: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      const reason = err.code && REASONS[err.code];
      reject(reason ? new AddressUnavailable(reason(port, host)) : err);
    });
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}
