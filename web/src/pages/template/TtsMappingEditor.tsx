import { useEffect, useRef, useState } from 'react';
import { api } from '../../api.ts';
import { ErrorBox } from '../../components/Status.tsx';
import type { Datastream } from '../../types.ts';

interface Row {
  id: number;
  key: string;
  target: string;
}

let nextRowId = 1;
const row = (key: string, target: string): Row => ({ id: nextRowId++, key, target });
const toRows = (mapping: Record<string, string>): Row[] =>
  Object.entries(mapping).map(([key, target]) => row(key, target));

/**
 * Explicit decoded-payload key (or dotted path, e.g. "air.temperature") → datastream, for
 * decoders whose keys are not datastream names or pins. `suggest` adds a row for a key from
 * the unmatched report.
 */
export function TtsMappingEditor({
  integrationId,
  mapping,
  datastreams,
  suggest,
  onSaved,
}: {
  integrationId: number;
  mapping: Record<string, string>;
  datastreams: Datastream[];
  suggest: string | null;
  onSaved: (mapping: Record<string, string>) => void;
}) {
  const [rows, setRows] = useState<Row[]>(() => toRows(mapping));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);

  // A new suggestion (a key picked in the unmatched report) adds a row once.
  const handled = useRef<string | null>(null);
  const firstPin = datastreams[0]?.pin ?? '';
  useEffect(() => {
    if (!suggest || handled.current === suggest) return;
    handled.current = suggest;
    setRows((rs) => (rs.some((r) => r.key === suggest) ? rs : [...rs, row(suggest, firstPin)]));
    setSaved(false);
  }, [suggest, firstPin]);

  const set = (i: number, patch: Partial<Row>) => {
    setRows((rs) => rs.map((r, j) => (j === i ? { ...r, ...patch } : r)));
    setSaved(false);
  };
  const save = async () => {
    setBusy(true);
    setError(null);
    try {
      const next: Record<string, string> = {};
      for (const r of rows) if (r.key.trim() && r.target) next[r.key.trim()] = r.target;
      const res = await api<{ mapping: Record<string, string> }>('PATCH', `/api/v1/integrations/tts/${integrationId}`, {
        mapping: next,
      });
      setRows(toRows(res.mapping));
      setSaved(true);
      onSaved(res.mapping);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <details className="tts-mapping" data-testid="tts-mapping" open={rows.length > 0 || undefined}>
      <summary>Key mapping {rows.length > 0 ? <span className="pill">{rows.length}</span> : null}</summary>
      <p className="tpl-help">
        Keys of the decoded payload (or dotted paths into nested output, like <code>air.temperature</code>) that should
        fill a datastream whose name or pin they do not match. A mapping wins over name and pin matching.
      </p>
      {rows.length === 0 ? <p className="tpl-help">No explicit mappings.</p> : null}
      {rows.map((r, i) => (
        <div className="row" key={r.id} style={{ marginBottom: '0.4rem' }}>
          <input
            aria-label="Payload key"
            placeholder="payload key, e.g. air.temperature"
            value={r.key}
            maxLength={100}
            data-testid={`mapping-key-${i}`}
            onChange={(e) => set(i, { key: e.target.value })}
          />
          <span aria-hidden="true">→</span>
          <select
            aria-label="Datastream"
            value={r.target}
            data-testid={`mapping-target-${i}`}
            onChange={(e) => set(i, { target: e.target.value })}
          >
            {datastreams.map((d) => (
              <option key={d.pin} value={d.pin}>
                {d.name} ({d.pin})
              </option>
            ))}
          </select>
          <button
            type="button"
            className="link"
            onClick={() => {
              setRows((rs) => rs.filter((_, j) => j !== i));
              setSaved(false);
            }}
          >
            Remove
          </button>
        </div>
      ))}
      {error ? <ErrorBox error={error} /> : null}
      <div className="row">
        <button
          type="button"
          data-testid="mapping-add"
          disabled={datastreams.length === 0}
          onClick={() => setRows((rs) => [...rs, row('', firstPin)])}
        >
          Add mapping
        </button>
        <button type="button" className="primary" data-testid="mapping-save" disabled={busy} onClick={save}>
          {busy ? 'Saving…' : 'Save mapping'}
        </button>
        {saved ? <span className="muted">Saved</span> : null}
      </div>
    </details>
  );
}
