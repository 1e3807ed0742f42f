import { open, readdir, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { MarkedFile } from './observations.js';
import type { Probe } from './probe.js';
import { decodeContent, findMarkings, OOXML_FILE_BYTES, TEXT_READ_BYTES } from './markings.js';

/**
 * Files bearing a 国家秘密标志 (第21条) in the directories the policy watches (policy.files.watch),
 * read as agent/probes/markings.ts describes. The walk is bounded (MAX_FILES files, MAX_DEPTH
 * levels, symlinks never followed, only regular files) and a file is read again only when its
 * inode, size or times change, so the scans that every change notice triggers stay cheap.
 * File names are whatever a user or an attacker chose: they are carried as data, never interpreted.
 */
export const MAX_FILES = 20_000;
export const MAX_DEPTH = 16;

export const markedFilesProbe: Probe = {
  name: 'marked-files',
  provides: ['markedFiles'],
  async collect(_paths, context) {
    return { markedFiles: await readMarkedFiles(context?.policy.files.watch ?? []) };
  },
};

interface CacheEntry {
  signature: string;
  found?: Omit<MarkedFile, 'path'>;
}
const cache = new Map<string, CacheEntry>();

export async function readMarkedFiles(dirs: readonly string[]): Promise<MarkedFile[]> {
  const seen = new Set<string>();
  const marked: MarkedFile[] = [];
  const queue: Array<{ dir: string; depth: number }> = [...new Set(dirs)].map((dir) => ({ dir, depth: 0 }));
  let files = 0;
  while (queue.length > 0 && files < MAX_FILES) {
    const { dir, depth } = queue.shift()!;
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (files >= MAX_FILES) break;
      const path = join(dir, name);
      let stats;
      try {
        stats = await lstat(path);
      } catch {
        continue;
      }
      if (stats.isDirectory()) {
        if (depth + 1 < MAX_DEPTH) queue.push({ dir: path, depth: depth + 1 });
        continue;
      }
      if (!stats.isFile()) continue;
      files += 1;
      if (seen.has(path)) continue;
      seen.add(path);
      const signature = `${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
      let entry = cache.get(path);
      if (entry?.signature !== signature) {
        entry = { signature, ...(await inspect(path, stats.size)) };
        cache.set(path, entry);
      }
      if (entry.found) marked.push({ path, ...entry.found });
    }
  }
  for (const path of cache.keys()) if (!seen.has(path)) cache.delete(path);
  return marked.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function inspect(path: string, size: number): Promise<{ found?: Omit<MarkedFile, 'path'> }> {
  let bytes: Buffer;
  let whole: boolean;
  try {
    const handle = await open(path, 'r');
    try {
      const head = Buffer.alloc(Math.min(size, TEXT_READ_BYTES));
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      bytes = head.subarray(0, bytesRead);
      whole = bytesRead >= size;
      // A zip (OOXML) keeps its directory at the end: read it whole, within the bound.
      if (!whole && bytes.readUInt32LE(0) === 0x04034b50 && size <= OOXML_FILE_BYTES) {
        const all = Buffer.alloc(size);
        const read = await handle.read(all, 0, size, 0);
        bytes = all.subarray(0, read.bytesRead);
        whole = true;
      }
    } finally {
      await handle.close();
    }
  } catch {
    // Unreadable (permissions, vanished): nothing to report for it this pass.
    return {};
  }
  const content = decodeContent(bytes, whole);
  if (content === undefined) return {};
  const markings = findMarkings(content.text);
  const top = markings[0];
  if (top === undefined) return {};
  const found: Omit<MarkedFile, 'path'> = { level: top.level, marking: top.text, format: content.format };
  if (top.term !== undefined) found.term = top.term;
  return { found };
}
