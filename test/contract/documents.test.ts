/**
 * The documents store (签发: draft → signed → sent) on SQLite and PostgreSQL: one contract.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { NewDocument } from '../../collector/store/documents/document-store.js';
import type { Store } from '../../collector/store/store.js';
import { describeEachDialect, type DialectFixture } from './dialects.js';

const T0 = '2026-12-01T00:00:00.000Z';
const T1 = '2026-12-01T01:00:00.000Z';
const T2 = '2026-12-01T02:00:00.000Z';

function draft(id: string, overrides: Partial<NewDocument> = {}): NewDocument {
  return {
    id,
    kind: 'incident-report',
    subject: `incident:${id}`,
    unit: '一处',
    title: '关于可能泄露国家秘密事件的报告',
    level: '机密',
    term: '1年',
    urgency: '特急',
    number: null,
    fields: { nature: '可能泄露' },
    createdAt: T0,
    createdBy: '张三',
    ...overrides,
  };
}

describeEachDialect('DocumentStore contract', (makeFixture) => {
  let fixture: DialectFixture;
  let store: Store;
  beforeEach(async () => {
    fixture = await makeFixture();
    store = await fixture.open();
  });
  afterEach(async () => {
    await store.close();
    await fixture.dispose();
  });

  it('stores a draft once per kind and subject, and reads it back by id and by subject', async () => {
    const created = await store.documents.create(draft('d-1'));
    expect(created).toEqual({
      ...draft('d-1'),
      state: 'draft',
      signedBy: null,
      signedAt: null,
      sentAt: null,
    });
    expect(await store.documents.create(draft('d-2', { subject: 'incident:d-1' }))).toBeUndefined();
    expect(await store.documents.get('d-2')).toBeUndefined();
    // Another kind about the same subject is another document.
    expect(
      await store.documents.create(draft('d-3', { kind: 'notice-reply', subject: 'incident:d-1' })),
    ).toBeDefined();
    expect((await store.documents.findBySubject('incident-report', 'incident:d-1'))?.id).toBe('d-1');
    expect(await store.documents.findBySubject('annual-report', 'incident:d-1')).toBeUndefined();
  });

  it('moves draft → signed → sent once each, keeping who and when; a number given at sign-off replaces none', async () => {
    await store.documents.create(draft('d-1', { number: '某保〔2026〕1号' }));
    await store.documents.create(draft('d-2'));
    expect(await store.documents.markSent('d-1', T1)).toBe(false); // a draft cannot be sent
    expect(await store.documents.signOff('d-1', '李四', T1)).toBe(true);
    expect(await store.documents.signOff('d-1', '王五', T2)).toBe(false);
    expect(await store.documents.signOff('d-2', '李四', T1, '某保〔2026〕2号')).toBe(true);
    expect(await store.documents.get('d-1')).toMatchObject({
      state: 'signed',
      signedBy: '李四',
      signedAt: T1,
      number: '某保〔2026〕1号',
    });
    expect((await store.documents.get('d-2'))?.number).toBe('某保〔2026〕2号');
    expect(await store.documents.markSent('d-1', T2)).toBe(true);
    expect(await store.documents.markSent('d-1', T2)).toBe(false);
    expect(await store.documents.get('d-1')).toMatchObject({ state: 'sent', sentAt: T2, signedBy: '李四' });
  });

  it('lists newest first, by unit, kind and state', async () => {
    await store.documents.create(draft('d-1', { createdAt: T0 }));
    await store.documents.create(draft('d-2', { createdAt: T1, unit: '二处' }));
    await store.documents.create(
      draft('d-3', { createdAt: T2, kind: 'annual-report', subject: 'annual:2025' }),
    );
    await store.documents.signOff('d-1', '李四', T2);
    const ids = (docs: { id: string }[]) => docs.map((d) => d.id);
    expect(ids(await store.documents.list({ limit: 10 }))).toEqual(['d-3', 'd-2', 'd-1']);
    expect(ids(await store.documents.list({ units: ['一处'], limit: 10 }))).toEqual(['d-3', 'd-1']);
    expect(ids(await store.documents.list({ units: [], limit: 10 }))).toEqual([]);
    expect(ids(await store.documents.list({ kind: 'incident-report', limit: 10 }))).toEqual(['d-2', 'd-1']);
    expect(ids(await store.documents.list({ state: 'signed', limit: 10 }))).toEqual(['d-1']);
    expect(ids(await store.documents.list({ limit: 1 }))).toEqual(['d-3']);
  });

  it('refuses a level that is not a legal word', async () => {
    await expect(store.documents.create(draft('d-1', { level: 'secret' }))).rejects.toThrow();
  });
});
