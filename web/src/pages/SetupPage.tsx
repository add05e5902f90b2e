import { useState } from 'react';
import { api } from '../api.ts';
import { ErrorBox } from '../components/Status.tsx';
import { useAction } from '../components/useAction.ts';

/** First run: create the organization and its admin. */
export function SetupPage({ onDone }: { onDone: (token: string) => void }) {
  const [form, setForm] = useState({ organization: '', email: '', password: '' });
  const { busy, error, run } = useAction();
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const r = await api<{ token: string }>('POST', '/api/v1/setup', form);
      onDone(r.token);
    });
  };
  return (
    <div className="auth">
      <form className="card auth-card" onSubmit={submit}>
        <h1>Welcome to Pinwheel</h1>
        <p className="muted">Create your organization and the first admin account.</p>
        <label>
          Organization
          <input
            required
            value={form.organization}
            onChange={(e) => setForm({ ...form, organization: e.target.value })}
          />
        </label>
        <label>
          Email
          <input
            type="email"
            required
            value={form.email}
            onChange={(e) => setForm({ ...form, email: e.target.value })}
          />
        </label>
        <label>
          Password (8 characters or more)
          <input
            type="password"
            required
            minLength={8}
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
          />
        </label>
        {error ? <ErrorBox error={error} /> : null}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create admin'}
        </button>
      </form>
    </div>
  );
}
