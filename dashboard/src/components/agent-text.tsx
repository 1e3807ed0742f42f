import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { visibleParts } from '../../../shared/visible-text.js';
import { terminalLabel } from '../../../shared/terms.js';
import type { TerminalName } from '../api.js';
import { useI18n } from '../i18n.js';

/** Characters shown before a long value is cut (the rest is one click away). */
export const CUT_AT = 160;

/**
 * Every piece of text an agent supplied (SSIDs, USB strings, host names, paths, keys, versions)
 * goes through here: plain text, never markup; invisible and bidi characters shown as their
 * escape (`\u202e`) in a style of their own (shared/visible-text.ts says which); a value longer
 * than `cut` characters cut, with a button that shows the whole of it in place. It wraps anywhere,
 * so no value can push a table off the screen.
 */
export function AgentText(props: {
  text: string | null | undefined;
  cut?: number;
  class?: string;
  /** Keep line breaks as breaks (text we formatted, such as indented JSON); others are escaped. */
  multiline?: boolean;
}) {
  const { t } = useI18n();
  const [whole, setWhole] = useState(false);
  if (props.text === null || props.text === undefined || props.text === '')
    return <span class="muted">—</span>;
  const cut = props.cut ?? CUT_AT;
  const text = props.text;
  const long = text.length > cut;
  // Never cut between the two halves of a surrogate pair.
  const end = /[\ud800-\udbff]/.test(text.charAt(cut - 1)) ? cut - 1 : cut;
  const shown = long && !whole ? text.slice(0, end) : text;
  return (
    <span class={props.class ? `agent-text ${props.class}` : 'agent-text'}>
      {(props.multiline ? shown.split('\n') : [shown]).map((line, n) => (
        <Fragment key={n}>
          {n > 0 ? '\n' : null}
          {visibleParts(line).map((part, i) =>
            part.escaped ? (
              <span key={i} class="invisible" title={t('invisibleChar', { code: part.text })}>
                {part.text}
              </span>
            ) : (
              part.text
            ),
          )}
        </Fragment>
      ))}
      {long ? (
        <>
          {whole ? null : '…'}
          <button type="button" class="link more" onClick={() => setWhole(!whole)}>
            {whole ? t('showLess') : t('showAll', { n: text.length })}
          </button>
        </>
      ) : null}
    </span>
  );
}

/**
 * A terminal as the register names it (编号 · hostname · 责任人), with its agent id one click away;
 * `plain` in a list whose rows have one link each (the row's own).
 */
export function TerminalCell(props: {
  terminal?: TerminalName | null;
  agent: string | null;
  plain?: boolean;
}) {
  const { terminal, agent, plain } = props;
  const label = terminal ? <AgentText text={terminalLabel(terminal)} /> : null;
  return (
    <>
      {terminal ? (
        <div>{plain ? label : <a href={`#/terminals/${encodeURIComponent(terminal.id)}`}>{label}</a>}</div>
      ) : null}
      {!agent ? (
        terminal ? null : (
          '—'
        )
      ) : plain ? (
        <span class={terminal ? 'muted small' : undefined}>{agent}</span>
      ) : (
        <a class={terminal ? 'muted small' : undefined} href={`#/agents/${encodeURIComponent(agent)}`}>
          {agent}
        </a>
      )}
    </>
  );
}
