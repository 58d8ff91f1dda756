/**
 * Starts a real AronaNET node (`python -m aronanet serve`) on free ports in a fresh data
 * directory, and stops it. The node is ready when its TCP port accepts connections (§5).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { PYTHON } from './paths';

export interface RunningNode {
  readonly tcpPort: number;
  readonly wsPort: number;
  readonly dataDir: string;
  /** `127.0.0.1:Q`, the address a user types in the app. */
  readonly wsAddress: string;
  readonly wsUrl: string;
  readonly httpUrl: string;
  /** The node's fingerprint as `aronanet fingerprint` prints it. */
  fingerprint(): string;
  /** Stop the node process, keeping its data directory and ports for `resume`. */
  halt(): Promise<void>;
  /** Start the node again: same data directory, same ports (a node restart, as users see it). */
  resume(): Promise<void>;
  /** Stop for good and remove the data directory. */
  stop(): Promise<void>;
  /** SIGSTOP the node: its sockets stay open but nothing moves (a machine hanging before it dies). */
  freeze(): void;
  /** SIGKILL the node (a machine dying, as a community failover sees it); `resume` starts it again. */
  kill(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntilReady(child: ChildProcess, ports: number[], log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the node exited with ${child.exitCode}:\n${log()}`);
    const ready = await Promise.all(ports.map(accepts));
    if (ready.every(Boolean)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the node did not listen within 30 s:\n${log()}`);
}

/**
 * The test node registers dozens of users from one address in seconds: registrations and
 * failed logins are throttled per address, so give every budget room, and hash passwords
 * cheaply (the defaults are for production; the suite is not testing Argon2's cost).
 */
const TEST_SETTINGS = `
[login_throttle]
burst = 1000
refill_per_second = 100.0
address_burst = 1000
address_refill_per_second = 100.0
register_burst = 1000
register_refill_per_second = 100.0

[hashing]
time_cost = 1
memory_kib = 8192
parallelism = 1
`;

export interface StartOptions {
  readonly webDir?: string;
  /** More TOML for the node's settings file, e.g. `[limits]` overrides. */
  readonly settings?: string;
  /** Serve the WebSocket port over TLS with this PEM certificate and key (https://, wss://). */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Listen on this address instead of 127.0.0.1 (the URLs still say 127.0.0.1). */
  readonly host?: string;
  /** More `aronanet serve` flags, e.g. `['--registration', 'invite']`. */
  readonly args?: readonly string[];
  /** The node key to use (copied into the data directory): nodes of one community share it. */
  readonly keyFile?: string;
  /** Listen on these ports instead of free ones picked here (a community's list names them first). */
  readonly ports?: { readonly tcp: number; readonly ws: number };
}

interface NodeProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
}

/** Run `aronanet serve` with `args` until both ports accept connections. */
async function spawnNode(args: readonly string[], ports: number[]): Promise<NodeProcess> {
  const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (data: Buffer) => (output = (output + data.toString()).slice(-4000)));
  child.stderr?.on('data', (data: Buffer) => (output = (output + data.toString()).slice(-4000)));
  try {
    await waitUntilReady(child, ports, () => output);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, output: () => output };
}

/** SIGTERM (§5: "stops cleanly on SIGINT or SIGTERM"), SIGKILL after 5 s. */
function terminate(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export async function startNode(options: StartOptions = {}): Promise<RunningNode> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aronanet-mobile-'));
  const [tcpPort, wsPort] = options.ports ? [options.ports.tcp, options.ports.ws] : [await freePort(), await freePort()];
  if (options.keyFile) {
    fs.copyFileSync(options.keyFile, path.join(dataDir, 'node.key'));
    fs.chmodSync(path.join(dataDir, 'node.key'), 0o600);
  }
  const config = path.join(dataDir, 'test-node.toml');
  fs.writeFileSync(config, `${TEST_SETTINGS}\n${options.settings ?? ''}`);
  const args = ['-m', 'aronanet', 'serve', '--data-dir', dataDir, '--config', config, '--host', options.host ?? '127.0.0.1'];
  if (options.tls) args.push('--tls-cert', options.tls.cert, '--tls-key', options.tls.key);
  const secure = options.tls ? 's' : '';
  args.push('--port', String(tcpPort), '--ws-port', String(wsPort), '--rate-limit', 'off');
  if (process.env.ARONANET_NODE_ARGS) args.push(...process.env.ARONANET_NODE_ARGS.split(' '));
  if (options.webDir) args.push('--web-dir', options.webDir);
  if (options.args) args.push(...options.args);
  let running: NodeProcess | null = await spawnNode(args, [tcpPort, wsPort]);
  return {
    tcpPort,
    wsPort,
    dataDir,
    wsAddress: `127.0.0.1:${wsPort}`,
    wsUrl: `ws${secure}://127.0.0.1:${wsPort}/artp`,
    httpUrl: `http${secure}://127.0.0.1:${wsPort}/`,
    fingerprint: () =>
      execFileSync(PYTHON, ['-m', 'aronanet', 'fingerprint', '--data-dir', dataDir], { encoding: 'utf8' }).trim(),
    halt: async () => {
      if (running) await terminate(running.child);
      running = null;
    },
    resume: async () => {
      if (!running) running = await spawnNode(args, [tcpPort, wsPort]);
    },
    freeze: () => void running?.child.kill('SIGSTOP'),
    kill: async () => {
      const child = running?.child;
      running = null;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    },
    stop: async () => {
      if (running) await terminate(running.child);
      running = null;
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
