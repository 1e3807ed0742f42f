import { collectorIdFromPublicKey } from '../../shared/identity.js';
import { ENROLL_PATH, enrollmentTargetSchema, signEnrollment } from '../../shared/enrollment-proof.js';
import { UserError } from '../../shared/errors.js';
import type { CollectorIdentity } from '../identity.js';
import type { HierarchyStore, ParentRecord } from '../store/hierarchy/hierarchy-store.js';
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
  const base = options.parentUrl.replace(/\/+$/, '');
  const url = `${base}/api/v1/hierarchy/enroll`;
  const timeoutMs = options.fetchTimeoutMs ?? 30_000;
  // The request is signed for the parent (SPEC §5 "Enrollment proves possession"): learn its id first.
  const asked = await exchange(`${base}${ENROLL_PATH}`, undefined, timeoutMs);
  const target = enrollmentTargetSchema.safeParse(asked.body);
  if (asked.status !== 200 || !target.success) {
    throw new UserError(
      `--parent: ${base}${ENROLL_PATH} did not say whom to enroll with (HTTP ${asked.status}); is it a smew collector of this version or later?`,
    );
  }
  const proof = signEnrollment(
    {
      token: options.token,
      publicKey: options.identity.publicKey,
      alg: options.identity.alg,
      collector: target.data.collector,
      ts: new Date(),
    },
    options.identity.sign,
  );
  const { status, body, text } = await exchange(
    url,
    { ...proof, unit: options.unit, level: options.level },
    timeoutMs,
  );
  if (status !== 200) {
    const error = (body as { error?: unknown }).error;
    throw new UserError(
      `the parent refused the enrollment (${status}): ${typeof error === 'string' ? error : text}`,
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

/** One JSON request to the parent; a user's message when it cannot be reached or is not JSON. */
async function exchange(
  url: string,
  payload: unknown,
  timeoutMs: number,
): Promise<{ status: number; body: unknown; text: string }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: payload === undefined ? 'GET' : 'POST',
      ...(payload === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new UserError(
      `--parent: cannot reach ${url}: ${cause}; is the parent collector running at that address?`,
    );
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as unknown, text };
  } catch {
    throw new UserError(
      `--parent: ${url} answered ${response.status} with something that is not JSON; is it a smew collector?`,
    );
  }
}
