import { Backoff, RECONNECT_DELAYS_MS } from '../../src/state/backoff';

describe('the reconnect backoff', () => {
  it('never waits more than 8 s (plus jitter) however long the node is away', () => {
    const backoff = new Backoff(RECONNECT_DELAYS_MS, () => 1); // the most jitter
    const delays = Array.from({ length: 20 }, () => backoff.next());
    expect(Math.max(...delays)).toBeLessThanOrEqual(8000 * 1.2);
    expect(delays[0]).toBeLessThanOrEqual(600);
  });
});
