/**
 * The state of the link to the node, shown whenever it is not simply "online": reconnecting,
 * offline (messages wait in the outbox, with a "retry now" button), or stopped for a reason
 * only the user can fix; and, once online again on another node of the community, which one.
 */
import type { LinkStatus } from '../state/chat';
import { voice } from '../theme/voice';
import { Button, Notice } from './ui';

export interface LinkBannerProps {
  readonly link: LinkStatus;
  readonly problem: string | null;
  readonly onRetry?: () => void;
  /** The community node the session moved to after its own failed: said once, quietly. */
  readonly movedTo?: string;
}

export function LinkBanner({ link, problem, onRetry, movedTo }: LinkBannerProps) {
  if (problem) return <Notice tone="error" testID="link-status" text={problem} />;
  if (link === 'online') return movedTo ? <Notice testID="moved-notice" text={voice.moved(movedTo)} /> : null;
  return (
    <Notice tone="warning" testID="link-status" text={voice.link[link]}>
      {link === 'offline' && onRetry ? <Button label="Retry now" kind="quiet" testID="retry-now" onPress={onRetry} /> : null}
    </Notice>
  );
}
