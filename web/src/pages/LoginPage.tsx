import { useState } from 'react';
import { api } from '../api.ts';
import { ErrorBox } from '../components/Status.tsx';
import { useAction } from '../components/useAction.ts';

export function LoginPage({ onLogin }: { onLogin: (token: string) => void }) {
  const [form, setForm] = useState({ email: '', password: '' });
  const { busy, error, run } = useAction();
  const submit = (e: React.FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const r = await api<{ token: string }>('POST', '/api/v1/auth/login', form);
      onLogin(r.token);
    });
  };
  return (
    <div className="auth">
      <form className="card auth-card" onSubmit={submit}>
        <h1>Log in to Pinwheel</h1>
        <label>
          Email
          <input
            type="email"
            autoComplete="username"
            required
            value={form.email}
            onChange={(e) => setForm({ ...form, email: e.target.value })}
          />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete="current-password"
            required
            value={form.password}
            onChange={(e) => setForm({ ...form, password: e.target.value })}
          />
        </label>
        {error ? <ErrorBox error={error} /> : null}
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </div>
  );
}
