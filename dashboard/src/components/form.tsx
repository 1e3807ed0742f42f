import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { useI18n, type MessageKey } from '../i18n.js';

/**
 * The pieces every create/edit form shares: labelled fields (so a screen reader and the keyboard
 * reach them), one submit path that shows the collector's refusal (in Chinese when it gives one)
 * or the form's own check, and tells the pages to refetch after a change. Forms use the browser's
 * own form semantics: Tab moves between fields, Enter submits.
 */
export class FormProblem extends Error {}

export interface Submit {
  busy: boolean;
  message: { ok: boolean; text: string } | null;
  run: (action: () => Promise<string | void>) => Promise<boolean>;
  clear: () => void;
}

export function useSubmit(): Submit {
  const { t, lang } = useI18n();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const run = async (action: () => Promise<string | void>) => {
    setBusy(true);
    setMessage(null);
    try {
      const done = await action();
      setMessage({ ok: true, text: done ?? t('saved') });
      window.dispatchEvent(new Event('smew:refresh'));
      return true;
    } catch (err) {
      const text =
        err instanceof ApiError
          ? lang === 'zh' && err.messageZh
            ? err.messageZh
            : err.message
          : (err as Error).message;
      setMessage({ ok: false, text });
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, message, run, clear: () => setMessage(null) };
}

/** Throws a problem the form shows; `field` names the label so the officer knows where. */
export function requiredText(
  value: string,
  label: string,
  t: (k: MessageKey, v?: Record<string, string>) => string,
): string {
  if (value.trim() === '') throw new FormProblem(t('fieldRequired', { field: label }));
  return value.trim();
}

export function FormMessage(props: { message: { ok: boolean; text: string } | null }) {
  if (!props.message) return null;
  return props.message.ok ? (
    <p class="ok" role="status" data-testid="form-ok">
      {props.message.text}
    </p>
  ) : (
    <p class="error" role="alert" data-testid="form-error">
      {props.message.text}
    </p>
  );
}

export function Field(props: { label: string; children: ComponentChildren; wide?: boolean }) {
  return (
    <label class={props.wide ? 'field wide' : 'field'}>
      <span>{props.label}</span>
      {props.children}
    </label>
  );
}

/** A form on a panel with a heading, its fields in a grid and its buttons below. */
export function FormPanel(props: {
  title: string;
  testId: string;
  /** The form's submit state (useSubmit): disables the button while busy, shows the outcome. */
  submit: Submit;
  /** Default 保存. */
  submitLabel?: string;
  onSubmit: () => Promise<unknown>;
  onCancel?: () => void;
  children: ComponentChildren;
}) {
  const { t } = useI18n();
  return (
    <form
      class="panel-form"
      data-testid={props.testId}
      aria-label={props.title}
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void props.onSubmit();
      }}
    >
      <h2>{props.title}</h2>
      <div class="fields">{props.children}</div>
      <div class="buttons">
        <button type="submit" disabled={props.submit.busy}>
          {props.submitLabel ?? t('save')}
        </button>
        {props.onCancel ? (
          <button type="button" class="secondary" onClick={props.onCancel}>
            {t('cancel')}
          </button>
        ) : null}
      </div>
      <FormMessage message={props.submit.message} />
    </form>
  );
}

/** A text field bound to a state setter. */
export function TextInput(props: {
  value: string;
  onInput: (value: string) => void;
  type?: 'text' | 'date' | 'datetime-local';
  maxLength?: number;
  multiline?: boolean;
  name?: string;
}) {
  const onInput = (e: Event) => props.onInput((e.target as HTMLInputElement).value);
  if (props.multiline) {
    return (
      <textarea
        name={props.name}
        rows={3}
        maxLength={props.maxLength}
        value={props.value}
        onInput={onInput}
      />
    );
  }
  if (props.type === 'date' || props.type === 'datetime-local') {
    return <input name={props.name} type={props.type} value={props.value} onInput={onInput} />;
  }
  return (
    <input name={props.name} type="text" maxLength={props.maxLength} value={props.value} onInput={onInput} />
  );
}

export function Select(props: {
  value: string;
  onChange: (value: string) => void;
  options: readonly (readonly [string, string])[];
  name?: string;
}) {
  return (
    <select
      name={props.name}
      value={props.value}
      onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}
    >
      {props.options.map(([value, label]) => (
        <option key={value} value={value}>
          {label}
        </option>
      ))}
    </select>
  );
}
