import { createHash } from 'node:crypto';
import { severityForLevel, type Level, type Severity } from '../../shared/levels.js';
import type { Detector, Finding } from './finding.js';
import { markingRank } from '../probes/markings.js';

/** At most this many findings per pass, so a directory of thousands of marked files stays bounded. */
export const MAX_MARKED_FINDINGS = 256;

const HOST_RANK: Record<Level, number> = { 非密: 0, 秘密: 1, 机密: 2, 绝密: 3 };
const BASE_SEVERITY: Record<'绝密' | '机密' | '秘密', Severity> = {
  绝密: 'critical',
  机密: 'high',
  秘密: 'medium',
};

/**
 * `file.marked` (第21条, 第41条): a file bearing a 国家秘密标志 in a directory the policy watches —
 * the places a marked file must not be (a download folder, a share, an exchange directory).
 * - rule `above-host-level`: the marking outranks the host (a 机密 file on a 秘密 or 非密 host),
 *   which no directory makes right: critical.
 * - rule `watched-directory`: otherwise; severity follows the marking (秘密 medium, 机密 high,
 *   绝密 critical) and the host level.
 * The key is the path, or its SHA-256 when a long path would not fit an event key.
 */
export const fileMarkedDetector: Detector = {
  name: 'file-marked',
  types: ['file.marked'],
  needs: ['markedFiles'],
  detect(observations, policy) {
    const findings: Finding[] = [];
    const files = [...(observations.markedFiles ?? [])].sort((a, b) =>
      a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
    );
    for (const file of files.slice(0, MAX_MARKED_FINDINGS)) {
      const above = markingRank(file.level) > HOST_RANK[policy.level];
      const data: Record<string, unknown> = {
        path: file.path,
        marking: file.marking,
        rule: above ? 'above-host-level' : 'watched-directory',
        level: file.level,
      };
      if (file.term !== undefined) data.term = file.term;
      data.format = file.format;
      findings.push({
        type: 'file.marked',
        key: fileKey(file.path),
        severity: above ? 'critical' : severityForLevel(BASE_SEVERITY[file.level], policy.level),
        data,
      });
    }
    return findings;
  },
};

function fileKey(path: string): string {
  const key = `file.marked:${path}`;
  return key.length <= 512 ? key : `file.marked:sha256:${createHash('sha256').update(path).digest('hex')}`;
}
