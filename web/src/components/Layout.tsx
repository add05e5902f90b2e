import { NavLink } from 'react-router-dom';
import type { Me } from '../App.tsx';

export function Layout({ me, onLogout, children }: { me: Me; onLogout: () => void; children: React.ReactNode }) {
  return (
    <div className="app">
      <header className="topbar">
        <NavLink to="/" className="brand">
          <img src="/icon.svg" alt="" width={24} height={24} /> Pinwheel
        </NavLink>
        <nav>
          <NavLink to="/devices">Devices</NavLink>
          <NavLink to="/templates">Templates</NavLink>
        </nav>
        <div className="who">
          <span className="ellipsis" title={`${me.email} · ${me.organization ?? ''}`}>
            {me.email}
            {me.organization ? <span className="muted"> · {me.organization}</span> : null}
          </span>
          <button type="button" className="link" onClick={onLogout}>
            Log out
          </button>
        </div>
      </header>
      <main className="content">{children}</main>
    </div>
  );
}
