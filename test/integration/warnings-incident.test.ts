import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WarningsSite } from '../support/warnings-site.js';

/**
 * A 第64条 warning opens a 第61条 incident (issue 5): the warning's signed events become the
 * incident's evidence, the warning links to the incident, only officers and admins of its units
 * may do it, and the audit log records who did. Discovery is when the unit found the leak (issue
 * 16, SPEC §7): the warning's 识别 time by default, or the time the officer enters; the evidence
 * times are shown beside it, never taken for it.
 */
let site: WarningsSite;
beforeAll(async () => {
  site = await WarningsSite.start();
});
afterAll(async () => site?.stop());

interface Incident {
  id: string;
  title: string;
  level: string;
  unit: string;
  discoveredAt: string;
  discoverySource: string;
  identifiedAt: string | null;
  evidenceFrom: string | null;
  evidenceTo: string | null;
  evidence: number[];
  measures: string | null;
  hops: { to: string; dueAt: string | null }[];
}

describe('opening an incident from a warning', () => {
  it('takes the signed events as evidence, and discovery from when the warning was identified', async () => {
    const host = await site.addAgent();
    const earliest = new Date(Date.now() - 10 * 60_000).toISOString();
    await host.publish({ ts: earliest });
    await host.publish();
    await site.settled();
    const [warning] = await site.warnings();
    const path = `/api/v1/warnings/${warning!.id}/incident`;

    expect((await site.api(path, { key: 'viewer', body: { level: '机密' } })).status).toBe(403);
    expect((await site.api(path, { key: 'otherUnit', body: { level: '机密' } })).status).toBe(404);
    // The test hosts have no level on record: the officer must say which secrets are concerned.
    const noLevel = await site.api<{ error: string }>(path, { body: {} });
    expect(noLevel.status).toBe(400);
    expect(noLevel.body.error).toMatch(/^level: /);

    const identified = await site.api(`/api/v1/warnings/${warning!.id}/transitions`, {
      body: { to: 'identified', note: '确认为涉密终端违规外联' },
    });
    expect(identified.status).toBe(200);
    const identifiedAt = (
      await site.api<{ history: { to: string; at: string }[] }>(`/api/v1/warnings/${warning!.id}`)
    ).body.history.find((h) => h.to === 'identified')!.at;
    const opened = await site.api<Incident>(path, {
      body: { level: '机密', measures: '已断开无线网卡', note: '疑似泄密' },
    });
    expect(opened.status).toBe(201);
    const incident = opened.body;
    const events = await site.api<{ items: { id: number; ts: string }[] }>(
      `/api/v1/events?agent=${host.agent.id}`,
    );
    expect([...incident.evidence].sort((a, b) => a - b)).toEqual(
      events.body.items.map((e) => e.id).sort((a, b) => a - b),
    );
    const latest = events.body.items
      .map((e) => e.ts)
      .sort()
      .at(-1);
    expect(incident).toMatchObject({
      level: '机密',
      unit: warning!.unit,
      discoveredAt: identifiedAt,
      discoverySource: 'identified',
      identifiedAt,
      evidenceFrom: earliest,
      evidenceTo: latest,
      // A text measure (an earlier caller's form) is taken as one measure by the caller, now.
      measures: [expect.objectContaining({ what: '已断开无线网卡' })],
    });
    expect(incident.title).toContain('无线');
    // The 24 hours run from when the unit found it (识别), not from when the evidence began.
    expect(Date.parse(incident.hops[0]!.dueAt!) - Date.parse(identifiedAt)).toBe(24 * 3_600_000);

    const detail = await site.api<{
      incidents: string[];
      state: string;
      history: { action: string; incidentId?: string; note: string; by: { name: string } }[];
    }>(`/api/v1/warnings/${warning!.id}`);
    expect(detail.body.incidents).toEqual([incident.id]);
    expect(detail.body.state).toBe('identified');
    expect(detail.body.history).toMatchObject([
      { action: 'transition', note: '确认为涉密终端违规外联' },
      { action: 'open-incident', incidentId: incident.id, note: '疑似泄密', by: { name: 'alice' } },
    ]);

    const again = await site.api<{ reason: string; errorZh: string }>(path, { body: { level: '机密' } });
    expect(again.status).toBe(409);
    expect(again.body.reason).toBe('incident-exists');

    const audit = await site.api<{ items: { actor: string; action: string; status: number }[] }>(
      '/api/v1/audit?limit=50',
      { key: 'auditor' },
    );
    expect(audit.body.items).toContainEqual(
      expect.objectContaining({ actor: 'alice', action: `POST ${path}`, status: 201 }),
    );
  });

  it('takes the discovery time the officer enters, with the identification and evidence beside it', async () => {
    const host = await site.addAgent();
    const attested = new Date(Date.now() - 30 * 60_000).toISOString();
    await host.publish({ ts: attested });
    await site.settled();
    const warning = (await site.warnings()).find((w) => w.agent === host.agent.id)!;
    const path = `/api/v1/warnings/${warning.id}/incident`;
    const found = new Date(Date.now() - 20 * 60_000).toISOString();
    const entered = await site.api<Incident>(path, { body: { level: '秘密', discoveredAt: found } });
    expect(entered.status).toBe(201);
    expect(entered.body).toMatchObject({
      discoveredAt: found,
      discoverySource: 'manual',
      evidenceFrom: attested,
      evidenceTo: attested,
    });
    // Never identified before: opening the incident is the identification.
    expect(Date.parse(entered.body.identifiedAt!)).toBeGreaterThan(Date.parse(found));
    expect(Date.parse(entered.body.hops[0]!.dueAt!) - Date.parse(found)).toBe(24 * 3_600_000);
  });

  it('is refused for a false positive, and leaves no incident behind', async () => {
    const host = await site.addAgent();
    await host.publish();
    await site.settled();
    const warning = (await site.warnings()).find((w) => w.agent === host.agent.id)!;
    expect(warning).toBeDefined();
    const judged = await site.api(`/api/v1/warnings/${warning.id}/transitions`, {
      body: { to: 'false-positive', note: '测试设备' },
    });
    expect(judged.status).toBe(200);
    const before = (await site.api<{ items: unknown[] }>('/api/v1/incidents')).body.items.length;
    const refused = await site.api<{ reason: string }>(`/api/v1/warnings/${warning.id}/incident`, {
      body: { level: '秘密' },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.reason).toBe('illegal-transition');
    expect((await site.api<{ items: unknown[] }>('/api/v1/incidents')).body.items).toHaveLength(before);
  });
});
