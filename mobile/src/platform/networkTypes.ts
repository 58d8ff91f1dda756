/** What the platform tells the session about the device's network. */
export interface NetworkWatcher {
  /** The network is (back) up: worth reconnecting now. */
  readonly online: () => void;
  /** The network is gone: no point retrying until it returns. */
  readonly offline: () => void;
}
