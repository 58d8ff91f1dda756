/**
 * The web export's files served on a node's port while that node is down: the stand-in for a
 * browser cache or service worker, so the page can be reloaded at the same origin (the same
 * IndexedDB and local storage). Nothing answers ArTP there.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

import { DIST } from './paths';

const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.css': 'text/css' };

/** Serve the export on 127.0.0.1:`port`; returns the function that stops it, freeing the port. */
export async function serveShellFromDisk(port: number): Promise<() => Promise<void>> {
  const server = http.createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const file = path.join(DIST, pathname === '/' ? 'index.html' : decodeURIComponent(pathname));
    if (!file.startsWith(DIST) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      response.writeHead(404).end('not found');
      return;
    }
    response.writeHead(200, { 'Content-Type': MIME[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
  });
  server.on('upgrade', (_request, socket) => socket.destroy()); // the node is down: no ArTP here
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
}
