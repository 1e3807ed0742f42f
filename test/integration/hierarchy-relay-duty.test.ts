/**
 * 第61条 ¶2 at the county: an incident from 甲单位 starts the county's own 24 h to pass it to the
 * city at the county's receipt. With the city away, the county is reminded and then warned that
 * it is late; the city's receipt, once it is back, closes the duty and clears both. Real chain
 * in process (SQLite, HTTP, brokers) on one clock that the test moves. /metrics shows the backlog
 * and the link on the way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../collector/auth/api-keys.js';
import { OFF_SYSTEM_ADVICE } from '../../shared/api/clocks.js';
import { ManualClock } from '../../shared/clock.js';
import { measuresDone } from '../support/clock-records.js';
import { eventually } from '../support/eventually.js';
import {
  callApi,
  enrollNode,
  makeNode,
  metric,
  receivedReports,
  run,
  startNode,
  stopAndRemove,
  type ChainNode,
  unitIncident,
  createSignedIncident,
} from '../support/collector-chain.js';

interface Duty {
  from: string;
  to: string;
  dueAt: string;
  state: string;
  reportedAt: string | null;
  receivedAt: string | null;
  late: boolean;
  lateByMs: number | null;
}
interface IncidentView {
  items: { id: string; receivedAt: string; duty: Duty | null; hops: { from: string; to: string }[] }[];
}

const HOUR = 3_600_000;

describe('an administration’s own 24 h for an incident from below', () => {
  const clock = new ManualClock(new Date());
  let unit: ChainNode;
  let county: ChainNode;
  let city: ChainNode;
  let countyKey: string;
  let receivedAt: string;
  const manualScans = { parent: { interval: '100ms', scanInterval: '1h', retryMax: '300ms', timeout: '2s' } };

  const duty = async () => {
    const { body } = await callApi<IncidentView>(county, countyKey, '/api/v1/hierarchy/incidents');
    return body.items.find((i) => i.id === 'inc-relay-1')!.duty!;
  };
  const warning = async (rule: string) =>
    (await run(county).store.warnings.listWarnings({ limit: 100 })).find((w) => w.rule === rule);

  beforeAll(async () => {
    city = await makeNode('city', '某市保密局', 'city', manualScans);
    county = await makeNode('county', '某县保密局', 'county', manualScans);
    unit = await makeNode('unit', '甲单位', 'unit', manualScans);
    for (const node of [city, county, unit]) await startNode(node, { clock });
    await enrollNode(county, city);
    await enrollNode(unit, county);
    countyKey = await createApiKey(run(county).store, { name: 'county-viewer', role: 'viewer' });
    // The city goes away before the incident comes up.
    await run(city).stop();
    const now = clock.now().toISOString();
    await createSignedIncident(
      run(unit).store,
      unitIncident('inc-relay-1', '疑似泄密', {
        level: '机密',
        discoveredAt: new Date(clock.now().getTime() - HOUR).toISOString(),
        measures: measuresDone('已断网'),
        createdAt: now,
      }),
    );
    await run(unit).hierarchy.scan();
    const [atCounty] = await eventually(
      async () => {
        const found = await receivedReports(county, 'incident');
        return found.length > 0 ? found : undefined;
      },
      { what: 'the incident at the county' },
    );
    receivedAt = atCounty!.receivedAt;
  }, 60_000);

  afterAll(() => stopAndRemove([unit, county, city]));

  it('the duty starts at the county’s receipt and shows in its incident view', async () => {
    expect(await duty()).toEqual({
      from: 'county',
      to: 'city',
      dueAt: new Date(Date.parse(receivedAt) + 24 * HOUR).toISOString(),
      state: 'pending',
      reportedAt: null,
      receivedAt: null,
      late: false,
      lateByMs: null,
    });
    await run(county).hierarchy.scan();
    expect(await warning('incident-report-reminder')).toBeUndefined();
  });

  it('12 h before the deadline a reminder, after it a late warning at the county', async () => {
    clock.set(new Date(Date.parse(receivedAt) + 13 * HOUR));
    await run(county).hierarchy.scan();
    const reminder = await warning('incident-report-reminder');
    expect(reminder).toMatchObject({ unit: '某县保密局', severity: 'high' });
    expect(reminder!.key).toContain('county>city');

    // T−2 h: a warning of its own, saying to report by phone or on paper and record it.
    clock.set(new Date(Date.parse(receivedAt) + 22 * HOUR + 30 * 60_000));
    await run(county).hierarchy.scan();
    const reminders = (await run(county).store.warnings.listWarnings({ limit: 100 })).filter(
      (w) => w.rule === 'incident-report-reminder',
    );
    expect(reminders.map((w) => w.key.split(':').at(-1)).sort()).toEqual(['reminder-120m', 'reminder-720m']);
    expect(reminders.find((w) => w.key.endsWith('reminder-120m'))!.sample.data).toMatchObject({
      advice: OFF_SYSTEM_ADVICE.zh,
    });

    clock.set(new Date(Date.parse(receivedAt) + 25 * HOUR));
    await run(county).hierarchy.scan();
    const late = await warning('incident-report-late');
    expect(late).toMatchObject({ unit: '某县保密局', severity: 'critical', resolvedAt: null });
    expect(await duty()).toMatchObject({ state: 'overdue', late: true, lateByMs: HOUR });
    // End to end (SPEC §7): 24 h after the first administration (this county) received it, it
    // is not national; it is stuck here, where it can be passed on, and the warning says so.
    const stuck = await warning('incident-report-stuck');
    expect(stuck).toMatchObject({ unit: '某县保密局', severity: 'critical', resolvedAt: null });
    expect(stuck!.sample.data).toMatchObject({
      heldBy: 'county',
      waitingOn: 'county>city',
      firstReceivedAt: receivedAt,
      endToEndDueAt: new Date(Date.parse(receivedAt) + 24 * HOUR).toISOString(),
    });
    const { body } = await callApi<{ items: { id: string; endToEnd: unknown }[] }>(
      county,
      countyKey,
      '/api/v1/hierarchy/incidents',
    );
    expect(body.items.find((i) => i.id === 'inc-relay-1')!.endToEnd).toMatchObject({
      firstReceivedAt: receivedAt,
      stuckHere: true,
    });
  });

  it('/metrics shows the backlog and the failing link while the city is away', async () => {
    await eventually(
      async () => ((await metric(county, 'smew_hierarchy_link_failures_total')) ?? 0) > 0 || undefined,
      {
        what: 'a failed round counted',
      },
    );
    expect(await metric(county, 'smew_hierarchy_outbox_pending')).toBeGreaterThanOrEqual(1);
    expect(await metric(county, 'smew_hierarchy_outbox_oldest_pending_age_seconds')).toBeGreaterThan(0);
    expect(await metric(county, 'smew_hierarchy_parent_link_up')).toBe(0);
    expect(await metric(county, 'smew_hierarchy_reports_sent_total')).toBeGreaterThanOrEqual(1);
    // The unit's reports reached the county: counted there as received, and at the unit as delivered.
    expect(
      await metric(county, 'smew_hierarchy_reports_received_total{result="accepted"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(await metric(unit, 'smew_hierarchy_reports_delivered_total')).toBeGreaterThanOrEqual(1);
    // A round of the unit's can time out on a loaded machine; the next one succeeds.
    await eventually(async () => (await metric(unit, 'smew_hierarchy_parent_link_up')) === 1 || undefined, {
      what: 'the unit’s link to the county up',
    });
    expect(await metric(unit, 'smew_hierarchy_parent_last_contact_timestamp_seconds')).toBeGreaterThan(0);
  });

  it('with the city away, the county records its onward hop by hand: a call, arrived as made', async () => {
    const officer = await createApiKey(run(county).store, { name: 'county-officer', role: 'secadmin' });
    const now = clock.now().toISOString();
    await createSignedIncident(
      run(unit).store,
      unitIncident('inc-relay-2', '涉密载体遗失', {
        level: '秘密',
        discoveredAt: now,
        measures: measuresDone('组织查找'),
        createdAt: now,
      }),
    );
    await run(unit).hierarchy.scan();
    const dutyOf = async () => {
      const { body } = await callApi<IncidentView>(county, officer, '/api/v1/hierarchy/incidents');
      return body.items.find((i) => i.id === 'inc-relay-2')?.duty;
    };
    const open = await eventually(dutyOf, { what: 'inc-relay-2 at the county' });
    expect(open).toMatchObject({ state: 'pending', late: false });
    const origin = (await receivedReports(county, 'incident')).find(
      (r) => r.report.data.id === 'inc-relay-2',
    )!.origin;
    const path = `/api/v1/hierarchy/incidents/${encodeURIComponent(origin)}/inc-relay-2/reports`;
    const viewer = await callApi(county, countyKey, path, { reportedAt: now, channel: 'phone' });
    expect(viewer.status).toBe(403);
    const missing = await callApi(county, officer, path.replace('inc-relay-2', 'inc-nope'), {
      reportedAt: now,
      channel: 'phone',
    });
    expect(missing.status).toBe(404);
    const recorded = await callApi<{ duty: Duty }>(county, officer, path, {
      reportedAt: now,
      channel: 'phone',
      receipt: '市保密局值班室 张',
      by: '县保密局 李',
    });
    expect(recorded.status).toBe(201);
    expect(recorded.body.duty).toMatchObject({
      state: 'done',
      late: false,
      reportedAt: now,
      receivedAt: now,
    });
    // It goes up as this level's hop, like a receipt would.
    const own = await run(county).store.hierarchy.ownReport(`incident.hop:${origin}:inc-relay-2`);
    expect(own!.report.data).toMatchObject({
      channel: 'phone',
      receipt: '市保密局值班室 张',
      from: 'county',
      to: 'city',
    });
  });

  it('the city’s receipt closes the duty and clears the warnings', async () => {
    await startNode(city, { clock });
    const closed = await eventually(
      async () => {
        const current = await duty();
        return current.state === 'done' ? current : undefined;
      },
      { what: 'the county’s duty done by the city’s receipt' },
    );
    const [atCity] = await receivedReports(city, 'incident');
    expect(closed.receivedAt).toBe(atCity!.receivedAt);
    await run(county).hierarchy.scan();
    expect((await warning('incident-report-late'))!.resolvedAt).not.toBeNull();
    // Passed on: no longer stuck here (the city holds it now, and watches it in turn).
    expect((await warning('incident-report-stuck'))!.resolvedAt).not.toBeNull();
    const reminders = (await run(county).store.warnings.listWarnings({ limit: 100 })).filter(
      (w) => w.rule === 'incident-report-reminder' && w.key.includes('inc-relay-1'),
    );
    expect(reminders.map((w) => w.resolvedAt !== null)).toEqual([true, true]);
    // The backlog drained; the city counted what it took.
    await eventually(async () => (await metric(county, 'smew_hierarchy_outbox_pending')) === 0 || undefined, {
      what: 'the county’s backlog drained',
    });
    expect(await metric(county, 'smew_hierarchy_outbox_oldest_pending_age_seconds')).toBe(0);
    expect(await metric(county, 'smew_hierarchy_parent_link_up')).toBe(1);
    expect(
      await metric(city, 'smew_hierarchy_reports_received_total{result="accepted"}'),
    ).toBeGreaterThanOrEqual(1);
  });
});
