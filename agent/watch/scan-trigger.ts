/**
 * Turns bursts of change notices into few scans. Creating a veth alone brings several netlink
 * messages (link, address, route), so the first notice starts a short quiet window and the scan
 * runs when it ends; notices during a scan lead to one more scan after it, never to overlap.
 */
export interface ScanTrigger {
  fire(): void;
  cancel(): void;
}

export function createScanTrigger(scan: () => Promise<unknown>, quietMs: number): ScanTrigger {
  let timer: NodeJS.Timeout | undefined;
  let scanning = false;
  let again = false;
  let cancelled = false;

  function run(): void {
    timer = undefined;
    if (cancelled) return;
    scanning = true;
    again = false;
    void scan()
      .catch(() => undefined)
      .finally(() => {
        scanning = false;
        if (again && !cancelled) schedule();
      });
  }

  function schedule(): void {
    if (timer === undefined) timer = setTimeout(run, quietMs);
  }

  return {
    fire() {
      if (cancelled) return;
      if (scanning) again = true;
      else schedule();
    },
    cancel() {
      cancelled = true;
      clearTimeout(timer);
    },
  };
}
