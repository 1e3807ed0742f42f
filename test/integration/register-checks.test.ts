import { afterEach, describe, expect, it } from 'vitest';
import { WarningsSite, type ApiWarning } from '../support/warnings-site.js';

/**
 * The register drives warnings, through a real collector and the shipped rules: a classified
 * terminal without 编号, 责任人 or system; a terminal above its system's level; a 责任人 who left.
 * Each is raised once and resolved once put right.
 */
let site: WarningsSite | undefined;
afterEach(async () => {
  await site?.stop();
  site = undefined;
});

const byRule = (warnings: ApiWarning[], rule: string) => warnings.filter((w) => w.rule === rule);

describe('register checks', () => {
  it('raise and resolve incomplete, level-mismatch and owner-left warnings', async () => {
    site = await WarningsSite.start();
    const s = site;
    const terminal = await s.api<{ id: string }>('/api/v1/terminals', {
      body: { level: '机密', hostname: 'pc-1' },
    });
    expect(terminal.status).toBe(201);
    const [incomplete] = byRule(await s.warnings(), 'register-terminal-incomplete');
    expect(incomplete).toMatchObject({ state: 'discovered', severity: 'medium', resolvedAt: null });
    const detail = await s.api<{ evidence: { data: Record<string, unknown> }[] }>(
      `/api/v1/warnings/${incomplete!.id}`,
    );
    expect(JSON.stringify(detail.body)).toContain('涉密信息系统');

    const system = await s.api<{ id: string }>('/api/v1/systems', {
      body: { name: '办公网', level: '秘密', commissionedAt: '2026-01-01' },
    });
    const person = await s.api<{ id: string }>('/api/v1/persons', {
      body: { name: '李四', clearance: '重要' },
    });
    const fixed = await s.api(`/api/v1/terminals/${terminal.body.id}`, {
      method: 'PATCH',
      body: { assetNo: 'JSJ-1', ownerId: person.body.id, systemId: system.body.id },
    });
    expect(fixed.status).toBe(200);
    let warnings = await s.warnings();
    expect(byRule(warnings, 'register-terminal-incomplete')[0]?.resolvedAt).not.toBeNull();
    expect(byRule(warnings, 'register-level-mismatch')).toEqual([
      expect.objectContaining({ severity: 'high', resolvedAt: null }),
    ]);

    await s.api(`/api/v1/terminals/${terminal.body.id}`, { method: 'PATCH', body: { level: '秘密' } });
    await s.api('/api/v1/terminals', {
      body: { assetNo: 'JSJ-2', level: '秘密', ownerId: person.body.id, systemId: system.body.id },
    });
    const left = await s.api(`/api/v1/persons/${person.body.id}`, {
      method: 'PATCH',
      body: { state: '离岗', stateSince: '2026-12-01' },
    });
    expect(left.status).toBe(200);
    warnings = await s.warnings();
    expect(byRule(warnings, 'register-level-mismatch')[0]?.resolvedAt).not.toBeNull();
    const ownerLeft = byRule(warnings, 'register-owner-left');
    expect(ownerLeft).toHaveLength(2);
    expect(ownerLeft.every((w) => w.resolvedAt === null)).toBe(true);

    // A check after a restart raises nothing twice: the findings are kept with the terminal.
    await s.restart();
    expect(byRule(await s.warnings(), 'register-owner-left').map((w) => w.count)).toEqual([1, 1]);
  });
});
