import { expect, it } from 'vitest';
import { LiveFeed, publishIngest, type LiveMessage } from '../../collector/api/stream.js';
import type { IngestOutcome, IngestPipeline } from '../../collector/ingest/pipeline.js';
import { openSqliteStore } from '../../collector/store/sqlite-store.js';
import { createLogger } from '../../shared/log.js';
import { eventually } from '../support/eventually.js';
import { AGENT, enrollAgentIn } from './store-contract.js';

/**
 * What the dashboard's live feed hears of ingest: each stored event with its type and severity
 * (read from the event itself), one message per event of a batch, nothing for refused events.
 */
it('announces each stored event, alone or in a batch, with its own type and severity', async () => {
  const store = openSqliteStore(':memory:');
  await enrollAgentIn(store);
  const envelope = (seq: number, type: string, severity: string) =>
    Buffer.from(JSON.stringify({ v: 1, agent: AGENT, seq, type, severity }));
  const answers: IngestOutcome[] = [
    { kind: 'event', agentId: AGENT, seq: 1, skewed: false },
    {
      kind: 'batch',
      agentId: AGENT,
      events: [
        {
          outcome: { kind: 'event', agentId: AGENT, seq: 2, skewed: false },
          payload: envelope(2, 'usb.storage.attached', 'high'),
        },
        { outcome: { kind: 'rejected', reason: 'schema', detail: 'bad' }, payload: Buffer.from('{}') },
        {
          outcome: { kind: 'duplicate', agentId: AGENT, seq: 1 },
          payload: envelope(1, 'file.marked', 'medium'),
        },
        {
          outcome: { kind: 'event', agentId: AGENT, seq: 3, skewed: false },
          payload: envelope(3, 'file.marked', 'critical'),
        },
      ],
    },
  ];
  const pipeline = { handle: () => Promise.resolve(answers.shift()!) } as unknown as IngestPipeline;
  const feed = new LiveFeed();
  const heard: LiveMessage[] = [];
  feed.subscribe((message) => heard.push(message));
  publishIngest(pipeline, feed, store, createLogger('test', 'silent'));

  await pipeline.handle('smew/v1/agents/x/events', envelope(1, 'net.wireless.present', 'high'));
  await pipeline.handle('smew/v1/agents/x/events', Buffer.from('{"type":"agent.batch"}'));
  await eventually(() => heard.length >= 3, { what: 'three announcements' });
  expect(heard).toEqual([
    {
      type: 'event',
      unit: '一处',
      agent: AGENT,
      seq: 1,
      eventType: 'net.wireless.present',
      severity: 'high',
    },
    {
      type: 'event',
      unit: '一处',
      agent: AGENT,
      seq: 2,
      eventType: 'usb.storage.attached',
      severity: 'high',
    },
    { type: 'event', unit: '一处', agent: AGENT, seq: 3, eventType: 'file.marked', severity: 'critical' },
  ]);
  store.close();
});
