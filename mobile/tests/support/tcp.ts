/** ArTP over TCP for Node tests: the library's FrameDecoder on a real socket (§1). */
import * as net from 'node:net';

import { encodeFrame, FrameDecoder } from '../../src/protocol/framing';
import type { Transport } from '../../src/transport/transport';

export function openTcp(port: number): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const decoder = new FrameDecoder();
    let onMessage: (message: Uint8Array) => void = () => undefined;
    let onClose: (reason: string) => void = () => undefined;
    socket.on('data', (data: Buffer) => {
      try {
        for (const frame of decoder.receive(new Uint8Array(data))) onMessage(frame);
      } catch (error) {
        socket.destroy();
        onClose((error as Error).message);
      }
    });
    socket.once('close', () => onClose('closed'));
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        send: (message) => socket.write(encodeFrame(message)),
        close: () => socket.destroy(),
        onMessage: (listener) => (onMessage = listener),
        onClose: (listener) => (onClose = listener),
      }),
    );
  });
}
