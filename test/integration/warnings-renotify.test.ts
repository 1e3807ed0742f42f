import { afterEach, describe, expect, it } from 'vitest';
import { notifyRoute } from '../../collector/notify/occasion.js';
import { notifyChannelSchema } from '../../collector/notify/config.js';
import { eventually } from '../support/eventually.js';
import { startSmtpReceiver, type SmtpReceiver } from '../support/smtp-receiver.js';
import { WarningsSite } from '../support/warnings-site.js';
import type { Warning } from '../../collector/warnings/warning.js';

/**
 * Notifications beyond the first (issue 5): a resolved warning raised again is announced again,
 * lifecycle steps are announced where a channel asks for them, and each channel has a minimum
 * severity. A real webhook receiver and a real SMTP server on loopback receive them.
 */
let site: WarningsSite | undefined;
let smtp: SmtpReceiver | undefined;
afterEach(async () => {
  await site?.stop();
  await smtp?.close();
  site = smtp = undefined;
});

interface Hook {
  occasion: { kind: string; name: string; to?: string };
  summary: string;
  warning: { id: string; state: string };
}

describe('notifying again', () => {
  it('announces a re-raise and the configured state changes, to channels at or above their minimum severity', async () => {
    smtp = await startSmtpReceiver();
    const mail = (name: string, minSeverity: string, to: string) => ({
      name,
      type: 'email',
      host: '127.0.0.1',
      port: smtp!.port,
      from: 'smew@unit.example',
      to: [to],
      minSeverity,
    });
    site = await WarningsSite.start((url) => ({
      notify: {
        channels: [
          { name: 'hook', type: 'webhook', url, on: ['opened', 'reraised', 'identified', 'closed'] },
          // The default `on` (opened, reraised); one channel below the warning's severity, one above.
          mail('mail-high', 'high', 'high@unit.example'),
          mail('mail-critical', 'critical', 'critical@unit.example'),
        ],
        retry: { initialDelay: '50ms', maxDelay: '200ms' },
      },
    }));
    const hooks = () => site!.receiver.received.map((r) => r.json as Hook);

    const host = await site.addAgent();
    await host.publish();
    await site.settled();
    const [warning] = await site.warnings();
    expect(warning!.severity).toBe('high');
    await eventually(() => hooks().length === 1 && smtp!.messages.length === 1, { what: 'first notices' });
    expect(hooks()[0]!.occasion.kind).toBe('opened');
    expect(smtp.messages[0]!.to).toEqual(['high@unit.example']);

    // Repeats while raised are folded in silently; cleared, then raised again, is news.
    await host.publish();
    await host.publish({ state: 'cleared' });
    await site.settled();
    expect((await site.warnings())[0]!.resolvedAt).not.toBeNull();
    await host.publish();
    await site.settled();
    await eventually(() => hooks().length === 2 && smtp!.messages.length === 2, { what: 'the re-raise' });
    expect(hooks()[1]).toMatchObject({ occasion: { kind: 'reraised', name: '再次触发' } });
    expect(hooks()[1]!.summary).toMatch(/^【再次触发】/);
    expect(smtp.messages[1]!.raw).toMatch(/Message-ID:\s+<smew-[^>]*-mail-high-reraised-[0-9T.Z-]+@smew>/);

    // identified and closed are configured on the hook; handling is not; e-mail takes none of them.
    for (const to of ['identified', 'handling', 'closed']) {
      const step = await site.api(`/api/v1/warnings/${warning!.id}/transitions`, { body: { to, note: to } });
      expect(step.status).toBe(200);
    }
    await eventually(() => hooks().length === 4, { what: 'the state-change notices' });
    expect(
      hooks()
        .slice(2)
        .map((h) => [h.occasion.kind, h.occasion.to, h.warning.state]),
    ).toEqual([
      ['state', 'identified', 'identified'],
      ['state', 'closed', 'closed'],
    ]);
    expect(hooks()[2]!.occasion.name).toBe('状态变更：已研判');
    const detail = await site.api<{ notifications: { channel: string; occasion: string; state: string }[] }>(
      `/api/v1/warnings/${warning!.id}`,
    );
    expect(
      detail.body.notifications.map((n) => `${n.channel} ${n.occasion.split(':')[0]} ${n.state}`),
    ).toEqual([
      'hook opened sent',
      'mail-high opened sent',
      'hook reraised sent',
      'mail-high reraised sent',
      'hook state sent',
      'hook state sent',
    ]);

    // Across a restart nothing goes out twice.
    await site.restart();
    await site.settled();
    // A new warning after the restart is the signal: its notices come once the notifier has run,
    // and anything of before sent again would come with them.
    await host.publish({
      key: 'net.wireless.present:wlp3s0',
      data: { iface: 'wlp3s0', mac: '00:11:22:33:44:66' },
    });
    await site.settled();
    await eventually(() => hooks().length >= 5 && smtp!.messages.length >= 3, {
      what: 'the new warning’s notices after the restart',
    });
    expect(hooks()).toHaveLength(5);
    expect(hooks()[4]!.occasion.kind).toBe('opened');
    expect(hooks()[4]!.warning.id).not.toBe(warning!.id);
    expect(smtp.messages).toHaveLength(3);
    expect(new Set(site.receiver.received.map((r) => r.headers['idempotency-key'])).size).toBe(5);
  });

  it('routes by each channel’s `on` list and minimum severity', () => {
    const channels = [
      { name: 'all', type: 'webhook', url: 'http://127.0.0.1:1/' },
      { name: 'critical', type: 'webhook', url: 'http://127.0.0.1:1/', minSeverity: 'critical' },
      { name: 'closing', type: 'webhook', url: 'http://127.0.0.1:1/', on: ['closed', 'false-positive'] },
    ].map((c) => notifyChannelSchema.parse(c));
    const route = notifyRoute(channels);
    const warning = (severity: Warning['severity']) => ({ severity }) as Warning;
    expect(route(warning('high'), { kind: 'opened' })).toEqual(['all']);
    expect(route(warning('critical'), { kind: 'opened' })).toEqual(['all', 'critical']);
    expect(route(warning('critical'), { kind: 'reraised', at: '2026-11-27T00:00:00.000Z' })).toEqual([
      'all',
      'critical',
    ]);
    expect(route(warning('info'), { kind: 'state', to: 'closed' })).toEqual(['closing']);
    expect(route(warning('info'), { kind: 'state', to: 'identified' })).toEqual([]);
    expect(
      notifyChannelSchema.safeParse({ name: 'x', type: 'webhook', url: 'http://a/', on: ['opend'] }).error
        ?.issues[0]?.message,
    ).toContain('one of opened, reraised');
  });
});
