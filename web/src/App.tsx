import { useEffect, useMemo, useState } from 'preact/hooks';
import { createApi, readToken } from './api';
import { AuditLog, useCanAudit } from './AuditLog';
import { ExportsPanel, useExports } from './ExportsPanel';
import { InvoiceList } from './InvoiceList';
import { SchedulesPanel } from './SchedulesPanel';
import { clearToken, saveToken, takeTokenFromLocation } from './session';
import { SignIn } from './SignIn';
import { formatDateTime } from './format';

export function App() {
  const [token, setToken] = useState<string | null>(() => takeTokenFromLocation());
  const [message, setMessage] = useState<string | null>(null);

  // A link /#token=… opened in a tab that already shows the page only changes the fragment.
  useEffect(() => {
    const onHash = () => {
      if (!/(^#|&)token=/.test(window.location.hash)) return;
      setMessage(null);
      setToken(takeTokenFromLocation());
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const signOut = (why?: string) => {
    clearToken();
    setMessage(why ?? null);
    setToken(null);
  };

  const info = token ? readToken(token) : null;
  if (token && info?.expiresAt && info.expiresAt.getTime() <= Date.now()) {
    clearToken();
    return <SignIn message={`Ce jeton a expiré le ${formatDateTime(info.expiresAt.toISOString())}. Connectez-vous avec un nouveau jeton.`} onSignIn={(t) => { saveToken(t); setMessage(null); setToken(t.trim()); }} />;
  }
  if (!token) {
    return <SignIn message={message} onSignIn={(t) => { saveToken(t); setMessage(null); setToken(t.trim().replace(/^Bearer\s+/i, '')); }} />;
  }
  return <Workspace key={token} token={token} onSignOut={signOut} />;
}

function Workspace({ token, onSignOut }: { token: string; onSignOut: (why?: string) => void }) {
  const [live, setLive] = useState<'connected' | 'reconnecting' | null>(null);
  const reconnected = useMemo(() => ({ handler: () => {} }), []);
  const api = useMemo(
    () =>
      createApi(token, {
        onUnauthenticated: (msg) => onSignOut(`Le jeton a été refusé par le service : ${msg}. Connectez-vous à nouveau.`),
        onReconnected: () => reconnected.handler(),
        onConnectionChange: setLive,
      }),
    [token],
  );
  useEffect(() => () => api.dispose(), [api]);
  const exportsState = useExports(api);
  reconnected.handler = exportsState.reload;
  const info = readToken(token);
  const canAudit = useCanAudit(api);
  const [view, setView] = useState<'invoices' | 'audit'>('invoices');
  const showAudit = canAudit && view === 'audit';

  return (
    <div class="layout">
      <header class="top">
        <div>
          <p class="crumb">Facturation</p>
          <h1 id="page-title">Factures et avoirs</h1>
        </div>
        {canAudit ? (
          <nav class="views" aria-label="Vues">
            <button type="button" class="secondary" aria-pressed={!showAudit} onClick={() => setView('invoices')}>Factures et avoirs</button>
            <button type="button" class="secondary" aria-pressed={showAudit} onClick={() => setView('audit')}>Journal d'audit</button>
          </nav>
        ) : null}
        <div class="who">
          <span>
            Connecté{info?.roles.length ? ` · ${info.roles.join(', ')}` : ''}
            {info?.expiresAt ? ` · jusqu'au ${formatDateTime(info.expiresAt.toISOString())}` : ''}
          </span>
          <button type="button" class="secondary" onClick={() => { api.dispose(); onSignOut('Vous êtes déconnecté.'); }}>
            Se déconnecter
          </button>
        </div>
      </header>
      <main class="content">
        {/* Hidden, not unmounted: the list keeps its filter and ticks while the journal is shown. */}
        <div class="view" hidden={showAudit}>
          <InvoiceList api={api} onExportRequested={exportsState.add} roles={info?.roles ?? []} />
          <SchedulesPanel api={api} roles={info?.roles ?? []} />
        </div>
        {showAudit ? <AuditLog api={api} /> : null}
      </main>
      <ExportsPanel state={exportsState} live={live} roles={info?.roles ?? []} />
    </div>
  );
}
