// Shared pieces of the screens: fields with their API error next to them,
// loading and empty states, a confirmation dialog before destructive actions.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '@xivo-auth/client';
import { t } from './i18n.js';

let ids = 0;
export function useId(prefix: string): string {
  const ref = useRef<string | null>(null);
  ref.current ??= `${prefix}-${++ids}`;
  return ref.current;
}

/** Field errors from an API answer's `details` ({field: {message}}), and its message. */
export function fieldErrors(err: unknown): { fields: Record<string, string>; message: string | null } {
  if (!(err instanceof ApiError))
    return { fields: {}, message: err === null || err === undefined ? null : String((err as Error).message ?? err) };
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(err.details ?? {})) {
    if (value !== null && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') {
      fields[name.replace(/^\//, '')] = (value as { message: string }).message;
    }
  }
  return { fields, message: err.message };
}

export function Field(props: {
  label: string;
  name: string;
  value: string;
  onInput: (v: string) => void;
  error?: string;
  type?: string;
  required?: boolean;
  autocomplete?: string;
  multiline?: boolean;
  hint?: string;
  invalid?: boolean;
}) {
  const id = useId(`f-${props.name}`);
  const errId = `${id}-error`;
  const hintId = `${id}-hint`;
  const described = [props.error ? errId : '', props.hint ? hintId : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: props.name,
    value: props.value,
    required: props.required,
    'aria-invalid': props.error || props.invalid ? true : undefined,
    'aria-describedby': described,
    onInput: (e: Event) => props.onInput((e.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.multiline ? (
        <textarea rows={6} spellcheck={false} {...common} />
      ) : (
        <input type={(props.type ?? 'text') as 'text'} autocomplete={props.autocomplete ?? 'off'} {...common} />
      )}
      {props.hint ? (
        <p id={hintId} class="hint">
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p id={errId} class="field-error" role="alert">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/** A labelled select, its API error next to it. */
export function Select(props: {
  label: string;
  name: string;
  value: string;
  onChange: (v: string) => void;
  options: Array<{ value: string; label: string }>;
  error?: string;
  disabled?: boolean;
}) {
  const id = useId(`s-${props.name}`);
  const errId = `${id}-error`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <select
        id={id}
        name={props.name}
        value={props.value}
        disabled={props.disabled}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? errId : undefined}
        onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value)}
      >
        {props.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {props.error ? (
        <p id={errId} class="field-error" role="alert">
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

export function Checkbox(props: { label: string; name: string; checked: boolean; onChange: (v: boolean) => void }) {
  const id = useId(`c-${props.name}`);
  return (
    <div class="field checkbox">
      <input
        id={id}
        type="checkbox"
        name={props.name}
        checked={props.checked}
        onChange={(e) => props.onChange((e.currentTarget as HTMLInputElement).checked)}
      />
      <label for={id}>{props.label}</label>
    </div>
  );
}

export function Loading() {
  return (
    <p class="loading" role="status" aria-live="polite">
      {t('common.loading')}
    </p>
  );
}

export function Empty(props: { text?: string }) {
  return <p class="empty">{props.text ?? t('common.empty')}</p>;
}

export function ErrorBox(props: { error: unknown }) {
  if (props.error === null || props.error === undefined) return null;
  const { message } = fieldErrors(props.error);
  return (
    <p class="error" role="alert">
      {message}
    </p>
  );
}

/** A modal asking before a destructive action; focus goes to Cancel, Escape cancels. */
export function Confirm(props: { text: string; onConfirm: () => void; onCancel: () => void; action?: string }) {
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    cancel.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') props.onCancel();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
  const id = useId('confirm');
  return (
    <div class="modal-backdrop">
      <div class="modal" role="alertdialog" aria-modal="true" aria-labelledby={id}>
        <p id={id}>{props.text}</p>
        <div class="buttons">
          <button type="button" ref={cancel} onClick={props.onCancel}>
            {t('common.cancel')}
          </button>
          <button type="button" class="danger" onClick={props.onConfirm}>
            {props.action ?? t('common.confirm')}
          </button>
        </div>
      </div>
    </div>
  );
}

/** A list loaded from the API, reloaded when `deps` change. */
export function useLoad<T>(
  load: () => Promise<T>,
  deps: unknown[],
): { data: T | null; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | null; error: unknown; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error) => live && setState({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return { ...state, reload: () => setN((x) => x + 1) };
}

export function Section(props: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="screen" aria-labelledby="screen-title">
      <div class="screen-head">
        <h1 id="screen-title" tabIndex={-1}>
          {props.title}
        </h1>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}
