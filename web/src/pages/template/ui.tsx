import { useEffect, useId, useState } from 'react';
import { errorText } from '../../api.ts';

/** A checkbox drawn as a toggle switch, with its label. */
export function Switch({
  checked,
  onChange,
  label,
  testId,
  disabled,
}: {
  checked: boolean;
  onChange: (v: boolean) => void;
  label: React.ReactNode;
  testId?: string;
  disabled?: boolean;
}) {
  return (
    <label className="switch">
      <input
        type="checkbox"
        role="switch"
        aria-checked={checked}
        checked={checked}
        disabled={disabled}
        data-testid={testId}
        onChange={(e) => onChange(e.target.checked)}
      />
      <span>{label}</span>
    </label>
  );
}

/** A delete (or other destructive) button that asks once more inline before acting. */
export function ConfirmButton({
  label,
  confirmLabel,
  question,
  onConfirm,
  testId,
}: {
  label: string;
  confirmLabel?: string;
  question?: string;
  onConfirm: () => Promise<void> | void;
  testId?: string;
}) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!asking) {
    return (
      <button type="button" className="danger" data-testid={testId} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span className="confirm-inline">
      {question ? <span>{question}</span> : null}
      <button
        type="button"
        className="danger"
        data-testid="confirm-yes"
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        {busy ? 'Working…' : (confirmLabel ?? `Yes, ${label.toLowerCase()}`)}
      </button>
      <button type="button" data-testid="confirm-no" onClick={() => setAsking(false)} disabled={busy}>
        Cancel
      </button>
    </span>
  );
}

/** A modal dialog over the page; Escape and the backdrop close it. */
export function Modal({
  title,
  onClose,
  children,
  footer,
  testId,
}: {
  title: string;
  onClose: () => void;
  children: React.ReactNode;
  footer: React.ReactNode;
  testId?: string;
}) {
  const titleId = useId();
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: a click on the backdrop closes; Escape does the same for keyboards
    <div
      className="modal-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div className="modal" role="dialog" aria-modal="true" aria-labelledby={titleId} data-testid={testId}>
        <header>
          <h2 id={titleId} className="ellipsis">
            {title}
          </h2>
          <button type="button" className="link" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </header>
        <div className="modal-body">{children}</div>
        <footer>{footer}</footer>
      </div>
    </div>
  );
}

/**
 * Which form field a server message is about, e.g. "Invalid request: body/min must be number" → "min",
 * "pin V3 is already used…" → "pin". Undefined when it cannot tell.
 */
export function fieldFromError(e: unknown, fields: readonly string[]): string | undefined {
  let msg = errorText(e).replace(/^Invalid request:\s*/i, '');
  msg = msg.replace(/^body\//, '').replace(/^\/?body\./, '');
  const m = /^([A-Za-z]+)/.exec(msg);
  if (m && fields.includes(m[1]!)) return m[1];
  if (/datastream named|metafield named/.test(msg) && fields.includes('name')) return 'name';
  if (/location datastream/.test(msg) && fields.includes('type')) return 'type';
  return undefined;
}

export const fmtTime = (ts: number | null | undefined): string =>
  ts ? new Date(ts).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—';
