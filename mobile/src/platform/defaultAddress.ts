/** On the web the app is served by the node itself, so its own host is the node's address. */
export function defaultAddress(): string {
  const location = (globalThis as { location?: { host?: string } }).location;
  return location?.host ?? '';
}
