import { afterEach, describe, expect, it } from 'vitest';
import { collectorConfigSchema } from '../../collector/config.js';
import { startCollector } from '../../collector/server.js';
import { UserError } from '../../shared/errors.js';
import { createLogger } from '../../shared/log.js';
import { eventually } from '../support/eventually.js';
import { startSmtpReceiver, type SmtpReceiver } from '../support/smtp-receiver.js';
import { WarningsSite } from '../support/warnings-site.js';
import { tempDir, testCollectorConfig } from '../support/collector-harness.js';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

let site: WarningsSite | undefined;
let smtp: SmtpReceiver | undefined;
afterEach(async () => {
  await site?.stop();
  await smtp?.close();
  site = smtp = undefined;
});

describe('notification channels', () => {
  it('cite 第64条 at a city administration, where 监测预警 is its duty (issue 16 item 15)', async () => {
    site = await WarningsSite.start((url) => ({
      level: 'city',
      notify: {
        channels: [{ name: 'hook', type: 'webhook', url }],
        retry: { initialDelay: '50ms', maxDelay: '200ms' },
      },
    }));
    const host = await site.addAgent();
    await host.publish();
    await site.settled();
    const [hook] = await eventually(
      () => (site!.receiver.received.length > 0 ? site!.receiver.received : undefined),
      {
        what: 'the webhook',
      },
    );
    expect((hook!.json as { basis: string }).basis).toBe(
      '保密监测预警（《保守国家秘密法实施条例》第六十四条）',
    );
  });

  it('e-mails one Chinese notice per warning through a real SMTP server, across a restart', async () => {
    smtp = await startSmtpReceiver();
    site = await WarningsSite.start({
      notify: {
        channels: [
          {
            name: 'mail',
            type: 'email',
            host: '127.0.0.1',
            port: smtp.port,
            from: 'smew@unit.example',
            to: ['officer@unit.example'],
          },
        ],
        retry: { initialDelay: '50ms', maxDelay: '200ms' },
      },
    });
    const host = await site.addAgent();
    await host.publish();
    await host.publish();
    await site.settled();
    const [warning] = await site.warnings();
    await eventually(() => smtp!.messages.length === 1, { what: 'the e-mail' });
    const [mail] = smtp.messages;
    expect(mail!.to).toEqual(['officer@unit.example']);
    expect(mail!.raw).toContain(`Message-ID: <smew-${warning!.id}-mail@smew>`);
    // The subject is RFC 2047-encoded Chinese: decode it to check the words.
    const subject = /^Subject: (.*(?:\r?\n[ \t].*)*)/m.exec(mail!.raw)![1]!;
    const decoded = [...subject.matchAll(/=\?UTF-8\?([BQ])\?([^?]*)\?=/gi)]
      .map(([, enc, text]) =>
        enc!.toUpperCase() === 'B'
          ? Buffer.from(text!, 'base64').toString('utf8')
          : Buffer.from(
              text!
                .replace(/_/g, ' ')
                .replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
              'latin1',
            ).toString('utf8'),
      )
      .join('');
    expect(decoded || subject).toContain('预警');
    // A unit's collector (the default level) cites 第34条 自监管, not 第64条 (issue 16 item 15).
    const body = mail!.raw.slice(/\r?\n\r?\n/.exec(mail!.raw)!.index).trim();
    const text = /Content-Transfer-Encoding: base64/i.test(mail!.raw)
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
      : Buffer.from(
          body
            .replace(/=\r?\n/g, '')
            .replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        ).toString('utf8');
    expect(text).toContain('保密自监管（《保守国家秘密法实施条例》第三十四条）');
    expect(text).not.toContain('第六十四条');

    await site.restart();
    await host.publish();
    await site.settled();
    // Nothing is due again after the restart: the delivery log says it went out.
    expect(
      await site.collector.store.warnings.dueNotifications(
        new Date(Date.now() + 3_600_000).toISOString(),
        10,
      ),
    ).toEqual([]);
    expect(smtp.messages).toHaveLength(1);
  });

  it('refuses a bad rule file at start, whole, before opening anything', async () => {
    const dir = tempDir('smew-rules-');
    try {
      const rules = join(dir.path, 'rules.yaml');
      writeFileSync(
        rules,
        'rules:\n  - name: ok\n    title: { zh: 好, en: ok }\n    match: { type: net.wireless.present }\n    severity: high\n' +
          '  - name: Bad Name\n    title: { zh: 坏, en: bad }\n    match: { type: net.wirless.present }\n    severity: loud\n',
      );
      const config = testCollectorConfig(dir.path, { rules: { file: rules } });
      const failure = await startCollector(config, { logger: createLogger('test', 'silent') }).catch(
        (err: unknown) => err,
      );
      expect(failure).toBeInstanceOf(UserError);
      const message = (failure as UserError).message;
      expect(message).toContain(`${rules}: line 6: rule 2 ("Bad Name"): key name`);
      expect(message).toContain('key match.type: found "net.wirless.present"');
      expect(message).toContain('key severity');
      expect((failure as UserError).exitCode).toBe(2);
      expect(existsSync(join(dir.path, 'smew.db'))).toBe(false);

      const missing = await startCollector(
        testCollectorConfig(dir.path, { rules: { file: join(dir.path, 'nope.yaml') } }),
        {
          logger: createLogger('test', 'silent'),
        },
      ).catch((err: unknown) => err);
      expect((missing as Error).message).toMatch(/nope\.yaml does not exist/);
    } finally {
      dir.remove();
    }
  });

  it('validates notify.channels with the key, what was found and what is expected', () => {
    const result = collectorConfigSchema.safeParse({
      notify: {
        channels: [
          { name: 'hook', type: 'webhook', url: 'ftp://x' },
          { name: 'hook', type: 'email', host: 'relay', from: 'smew@unit.example', to: [] },
          { name: 'x', type: 'pager' },
        ],
      },
    });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((issue) => issue.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining(['notify.channels.0.url', 'notify.channels.1.to', 'notify.channels.2.type']),
    );
  });
});
