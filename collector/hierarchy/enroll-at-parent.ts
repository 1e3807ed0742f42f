import { collectorIdFromPublicKey } from '../../shared/identity.js';
import { UserError } from '../../shared/errors.js';
import type { CollectorIdentity } from '../identity.js';
import type { HierarchyStore, ParentRecord } from '../store/hierarchy-store.js';
import { childCertSchema, verifiedBy, type CollectorLevel } from './messages.js';
import type { ChildEnrollResponse } from './parent-side.js';

/**
 * The child's half of `smew collector enroll`: register this collector's key with the parent
 * using a one-time token, check that the certificate the parent returns is for this key and is
 * signed by the key the parent claims, and record the parent in the store (where a running
 * collector's link picks it up on its next round).
 */
export async function enrollAtParent(options: {
  parentUrl: string;
  token: string;
  identity: CollectorIdentity;
  unit: string;
  level: CollectorLevel;
  store: HierarchyStore;
  fetchTimeoutMs?: number;
}): Promise<ParentRecord> {
  const url = `${options.parentUrl.replace(/\/+$/, '')}/api/v1/hierarchy/enroll`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        token: options.token,
        publicKey: options.identity.publicKey,
        alg: options.identity.alg,
        unit: options.unit,
        level: options.level,
      }),
      signal: AbortSignal.timeout(options.fetchTimeoutMs ?? 30_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new UserError(
      `--parent: cannot reach ${url}: ${cause}; is the parent collector running at that address?`,
    );
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new UserError(
      `--parent: ${url} answered ${response.status} with something that is not JSON; is it a smew collector?`,
    );
  }
  if (response.status !== 200) {
    const error = (body as { error?: unknown }).error;
    throw new UserError(
      `the parent refused the enrollment (${response.status}): ${typeof error === 'string' ? error : text}`,
    );
  }
  const answer = body as ChildEnrollResponse;
  const cert = childCertSchema.safeParse(answer.cert);
  const parent = answer.parent;
  if (
    !cert.success ||
    typeof parent?.publicKey !== 'string' ||
    collectorIdFromPublicKey(parent.publicKey) !== parent.id ||
    cert.data.parent !== parent.id ||
    cert.data.child !== options.identity.id ||
    cert.data.publicKey !== options.identity.publicKey ||
    !verifiedBy(cert.data, parent.alg, parent.publicKey)
  ) {
    throw new UserError(
      `the parent at ${options.parentUrl} answered with a certificate that does not match this collector's key`,
    );
  }
  const record: ParentRecord = {
    url: options.parentUrl,
    id: parent.id,
    alg: parent.alg,
    publicKey: parent.publicKey,
    unit: parent.unit,
    level: parent.level,
    cert: cert.data,
    enrolledAt: cert.data.enrolledAt,
  };
  await options.store.setParent(record);
  return record;
}
