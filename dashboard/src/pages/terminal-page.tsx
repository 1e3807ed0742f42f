import { useState } from 'preact/hooks';
import { itemsOf, type RegisterChange, type Terminal, type Warning } from '../api.js';
import { AgentText } from '../components/agent-text.js';
import { SeverityBadge, StateBadge, Time } from '../components/bits.js';
import { Show, useApi } from '../components/data.js';
import { useI18n } from '../i18n.js';
import { AgentEvents } from './agents.js';
import { TerminalForm } from './terminal-form.js';

/** One terminal: its register fields (editable), its inventory, its history, its events and warnings. */
export function TerminalDetail(props: { id: string; canWrite: boolean }) {
  const { t } = useI18n();
  const terminal = useApi<Terminal>(`/api/v1/terminals/${encodeURIComponent(props.id)}`);
  const [editing, setEditing] = useState(false);
  return (
    <section data-testid="terminal-page">
      <p>
        <a href="#/agents">← {t('back')}</a>
      </p>
      <Show loaded={terminal}>
        {(x) => (
          <>
            <h1>
              {x.assetNo ?? t('noAssetNo')} · <AgentText text={x.hostname} /> · {x.owner ?? '—'}
            </h1>
            {props.canWrite ? (
              <p>
                <button type="button" onClick={() => setEditing(!editing)}>
                  {t('editTerminal')}
                </button>
              </p>
            ) : null}
            {editing ? <TerminalForm terminal={x} onDone={() => setEditing(false)} /> : null}
            <RegisterFacts terminal={x} />
            <h2>{t('inventory')}</h2>
            <Inventory terminal={x} />
            <h2>{t('changeHistory')}</h2>
            <History changes={x.history ?? []} />
            {x.agentId ? <AgentActivity agentId={x.agentId} /> : null}
          </>
        )}
      </Show>
    </section>
  );
}

function RegisterFacts(props: { terminal: Terminal }) {
  const { t } = useI18n();
  const x = props.terminal;
  const facts: [string, preact.ComponentChildren][] = [
    [t('assetNo'), x.assetNo ?? '—'],
    [t('level'), x.level],
    [t('use'), x.use],
    [t('owner'), x.owner ?? '—'],
    [t('department'), x.department ?? '—'],
    [t('location'), x.location ?? '—'],
    [t('keyPart'), x.keyPart ?? t('notKeyPart')],
    [t('system'), x.systemName ?? '—'],
    [t('state'), `${x.state}${x.stateSince ? `（${x.stateSince}）` : ''}`],
    [t('unit'), x.unit],
    [
      t('agent'),
      x.agentId ? <a href={`#/agents/${encodeURIComponent(x.agentId)}`}>{x.agentId}</a> : t('noAgent'),
    ],
    [t('status'), x.agentId ? (x.online ? t('online') : t('offline')) : '—'],
    [t('lastSeen'), <Time iso={x.lastSeen} seconds />],
  ];
  return (
    <dl class="facts" data-testid="register-facts">
      {facts.map(([label, value]) => (
        <>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </>
      ))}
    </dl>
  );
}

/** What the agent reported about its host; every string is the host's own text. */
function Inventory(props: { terminal: Terminal }) {
  const { t } = useI18n();
  const inv = props.terminal.inventory;
  if (!inv) return <p class="muted">{t('noInventory')}</p>;
  const gib = (bytes: number | undefined) =>
    bytes === undefined ? '—' : `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  return (
    <div data-testid="inventory">
      <p class="muted">
        {t('reportedAt')} <Time iso={props.terminal.inventoryAt} seconds />
      </p>
      <dl class="facts">
        <dt>{t('os')}</dt>
        <dd>
          <AgentText
            text={[inv.os.distro, inv.os.release, inv.os.kernel, inv.os.arch].filter(Boolean).join(' ')}
          />
        </dd>
        <dt>CPU</dt>
        <dd>
          <AgentText text={`${inv.cpu.model ?? ''} ×${inv.cpu.cores ?? '?'}`} />
        </dd>
        <dt>{t('memory')}</dt>
        <dd>{gib(inv.memoryBytes)}</dd>
        <dt>{t('board')}</dt>
        <dd>
          <AgentText
            text={[inv.board.vendor, inv.board.model, inv.board.serial].filter(Boolean).join(' / ')}
          />
        </dd>
        <dt>BIOS</dt>
        <dd>
          <AgentText text={[inv.bios.vendor, inv.bios.version, inv.bios.date].filter(Boolean).join(' / ')} />
        </dd>
        <dt>UUID</dt>
        <dd>
          <AgentText text={inv.systemUuid} />
        </dd>
        <dt>{t('disks')}</dt>
        <dd>
          {inv.disks.map((d) => (
            <div key={d.device}>
              <AgentText text={`${d.device} ${d.model ?? ''} ${d.serial ?? ''} ${gib(d.sizeBytes)}`} />
            </div>
          ))}
        </dd>
        <dt>{t('interfaces')}</dt>
        <dd>
          {inv.interfaces.map((i) => (
            <div key={i.iface}>
              <AgentText text={`${i.iface} ${i.mac ?? ''} ${[...i.ip4, ...i.ip6].join(' ')}`} />
            </div>
          ))}
        </dd>
      </dl>
    </div>
  );
}

function History(props: { changes: RegisterChange[] }) {
  const { t } = useI18n();
  if (props.changes.length === 0) return <p class="muted">{t('none')}</p>;
  const show = (value: Record<string, unknown> | null) =>
    value
      ? Object.entries(value)
          .map(([k, v]) => `${k}: ${v === null ? '—' : String(v)}`)
          .join('；')
      : '—';
  return (
    <table data-testid="change-history">
      <thead>
        <tr>
          <th>{t('time')}</th>
          <th>{t('actor')}</th>
          <th>{t('before')}</th>
          <th>{t('after')}</th>
        </tr>
      </thead>
      <tbody>
        {props.changes.map((c) => (
          <tr key={c.id}>
            <td>
              <Time iso={c.at} seconds />
            </td>
            <td>{c.actor}</td>
            <td>
              <AgentText text={show(c.before)} />
            </td>
            <td>
              <AgentText text={show(c.after)} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The agent's events and the warnings about it. */
function AgentActivity(props: { agentId: string }) {
  const { t, lang } = useI18n();
  const warnings = useApi<unknown>('/api/v1/warnings?limit=1000');
  return (
    <>
      <h2>{t('warnings')}</h2>
      <Show loaded={warnings}>
        {(reply) => {
          const mine = itemsOf<Warning>(reply).filter((w) => w.agent === props.agentId);
          if (mine.length === 0) return <p class="muted">{t('none')}</p>;
          return (
            <table data-testid="terminal-warnings">
              <tbody>
                {mine.map((w) => (
                  <tr key={w.id}>
                    <td>
                      <a href={`#/warnings/${encodeURIComponent(w.id)}`}>{w.title?.[lang] ?? w.rule}</a>
                    </td>
                    <td>
                      <SeverityBadge severity={w.severity} />
                    </td>
                    <td>
                      <StateBadge state={w.state} />
                    </td>
                    <td>
                      <Time iso={w.lastSeen} seconds />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          );
        }}
      </Show>
      <AgentEvents agentId={props.agentId} />
    </>
  );
}
