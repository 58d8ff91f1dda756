/**
 * The state of the link to the node, shown whenever it is not simply "online": reconnecting,
 * offline (messages wait in the outbox, with a "retry now" button), or stopped for a reason
 * only the user can fix.
 */
import type { LinkStatus } from '../state/chat';
import { voice } from '../theme/voice';
import { Button, Notice } from './ui';

export function LinkBanner({ link, problem, onRetry }: { link: LinkStatus; problem: string | null; onRetry?: () => void }) {
  if (problem) return <Notice tone="error" testID="link-status" text={problem} />;
  if (link === 'online') return null;
  return (
    <Notice tone="warning" testID="link-status" text={voice.link[link]}>
      {link === 'offline' && onRetry ? <Button label="Retry now" kind="quiet" testID="retry-now" onPress={onRetry} /> : null}
    </Notice>
  );
}
