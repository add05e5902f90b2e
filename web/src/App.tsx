import { useCallback, useEffect, useState } from 'react';
import { Navigate, Route, Routes } from 'react-router-dom';
import { api, onUnauthorized, session } from './api.ts';
import { Layout } from './components/Layout.tsx';
import { Loading } from './components/Status.tsx';
import { DevicePage } from './pages/DevicePage.tsx';
import { DevicesPage } from './pages/DevicesPage.tsx';
import { LoginPage } from './pages/LoginPage.tsx';
import { SetupPage } from './pages/SetupPage.tsx';
import { TemplatePage } from './pages/TemplatePage.tsx';
import { TemplatesPage } from './pages/TemplatesPage.tsx';

export interface Me {
  id: number;
  email: string;
  role: string;
  organization: string | null;
}

/** Decides between first-run setup, login and the console, then routes inside it. */
export function App() {
  const [setupNeeded, setSetupNeeded] = useState<boolean | null>(null);
  const [me, setMe] = useState<Me | null | undefined>(undefined);

  const loadMe = useCallback(async () => {
    if (!session.token) return setMe(null);
    try {
      setMe(await api<Me>('GET', '/api/v1/auth/me'));
    } catch {
      setMe(null);
    }
  }, []);

  useEffect(() => {
    api<{ needed: boolean }>('GET', '/api/v1/setup')
      .then((r) => setSetupNeeded(r.needed))
      .catch(() => setSetupNeeded(false));
    void loadMe();
    return onUnauthorized(() => setMe(null));
  }, [loadMe]);

  if (setupNeeded === null || me === undefined) return <Loading label="Starting Pinwheel…" />;
  if (setupNeeded) {
    return (
      <SetupPage
        onDone={(token) => {
          session.set(token);
          setSetupNeeded(false);
          void loadMe();
        }}
      />
    );
  }
  if (!me) {
    return (
      <LoginPage
        onLogin={(token) => {
          session.set(token);
          void loadMe();
        }}
      />
    );
  }
  const logout = async () => {
    await api('POST', '/api/v1/auth/logout').catch(() => {});
    session.clear();
    setMe(null);
  };
  return (
    <Layout me={me} onLogout={logout}>
      <Routes>
        <Route path="/" element={<Navigate to="/devices" replace />} />
        <Route path="/templates" element={<TemplatesPage />} />
        <Route path="/templates/:id/*" element={<TemplatePage />} />
        <Route path="/devices" element={<DevicesPage />} />
        <Route path="/devices/:id/*" element={<DevicePage />} />
        <Route path="*" element={<p className="muted">Nothing here. Pick a page above.</p>} />
      </Routes>
    </Layout>
  );
}
